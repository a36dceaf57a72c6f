"""Social payments in the admin: read by the head of the service and the auditor, exported by
the auditor (``records.export_data``, logged with the people in the file), and written by nobody
here. Recipients, case files and decisions are written only through ``payments.services`` on
the staff pages and the API (the approval of a decision, its number and its people are the
approval mechanism's, ``records.approval``); their row history (``RecipientEvent``,
``DependantEvent``, ``DecisionEvent``) is registered by ``records.admin.register_history_models``
like every other history table. The legal parameters are kept by the administrator only (a new
value is a new row from its date; a correction keeps the old value in the row history), read and
exported by the auditor."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export import fields

from payments.models import (
    Bank,
    BankAccount,
    CaseDocument,
    ConfirmationFile,
    ConfirmationLine,
    Decision,
    DecisionProposal,
    Dependant,
    LegalParameter,
    MonthlyReport,
    Payment,
    PaymentItem,
    PaymentList,
    PaymentReturn,
    PaymentRun,
    Recipient,
    RecipientChange,
    Recovery,
)
from records.admin_export import AdminGuardMixin, LoggedExportMixin, PersonalDataAdmin, ReadOnlyAdmin
from records.export_resources import AuditorResource


@admin.register(LegalParameter)
class LegalParameterAdmin(AdminGuardMixin, LoggedExportMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "valid_from", "value", "confidence", "basis"]
    list_filter = ["name", "confidence"]
    search_fields = ["basis"]


class RecipientResource(AuditorResource):
    """Whose case it is, by IIN (the foreign keys alone say nothing to an auditor's spreadsheet);
    ``AuditorResource`` adds their names (``participant_name``, ``deceased_name``)."""

    participant_iin = fields.Field(attribute="participant__iin", column_name="participant_iin", readonly=True)
    deceased_iin = fields.Field(attribute="deceased__iin", column_name="deceased_iin", readonly=True)

    class Meta:
        model = Recipient


class OfRecipientResource(AuditorResource):
    """Rows that belong to a recipient: exported with the recipient's IIN, name and payment type."""

    recipient_iin = fields.Field(attribute="recipient__participant__iin", column_name="recipient_iin", readonly=True)
    recipient_name = fields.Field(
        attribute="recipient__participant__full_name", column_name="recipient_name", readonly=True
    )
    payment_type = fields.Field(attribute="recipient__payment_type", column_name="payment_type", readonly=True)


@admin.register(Recipient)
class RecipientAdmin(PersonalDataAdmin):
    resource_classes = [RecipientResource]
    list_display = ["case_number", "participant", "payment_type", "application_date", "risk_date", "status", "amount"]
    list_filter = ["payment_type", "status", "application_date"]
    list_select_related = ["participant", "deceased"]
    search_fields = ["=participant__iin", "=deceased__iin"]
    person_fields = ("participant__iin", "deceased__iin")
    date_hierarchy = "application_date"

    @admin.display(description=_("case file"))
    def case_number(self, recipient: Recipient) -> str:
        return recipient.case_number


class DependantResource(OfRecipientResource):
    class Meta:
        model = Dependant


@admin.register(Dependant)
class DependantAdmin(PersonalDataAdmin):
    resource_classes = [DependantResource]
    list_display = ["iin", "full_name", "birth_date", "relation", "since", "until", "recipient"]
    list_filter = ["relation"]
    list_select_related = ["recipient__participant"]
    search_fields = ["=iin", "=recipient__participant__iin", "=recipient__deceased__iin"]
    person_fields = ("iin", "recipient__participant__iin", "recipient__deceased__iin")


class RecipientChangeResource(OfRecipientResource):
    class Meta:
        model = RecipientChange


@admin.register(RecipientChange)
class RecipientChangeAdmin(PersonalDataAdmin):
    resource_classes = [RecipientChangeResource]
    list_display = ["recipient", "item", "old_value", "new_value", "changed_on", "changed_by", "entered_at"]
    list_filter = ["item", "changed_on"]
    list_select_related = ["recipient__participant", "changed_by"]
    search_fields = ["=recipient__participant__iin"]
    person_fields = ("recipient__participant__iin",)


class CaseDocumentResource(OfRecipientResource):
    """The case file's inventory: what was received and checked, never the scanned file."""

    class Meta:
        model = CaseDocument
        exclude = ["content"]


@admin.register(CaseDocument)
class CaseDocumentAdmin(PersonalDataAdmin):
    """The inventory of case files (metadata only): the scanned file is personal data that the
    case-file page serves to those who process it, logged; the admin neither shows nor exports
    its bytes."""

    resource_classes = [CaseDocumentResource]
    list_display = [
        "recipient",
        "kind",
        "number",
        "issued_on",
        "file_name",
        "content_type",
        "size",
        "received_at",
        "checked_by",
        "checked_at",
    ]
    list_filter = ["kind", "content_type", "received_at"]
    list_select_related = ["recipient__participant", "checked_by"]
    search_fields = ["=recipient__participant__iin", "=number", "=sha256"]
    person_fields = ("recipient__participant__iin",)
    exclude = ["content"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseDocument]:
        # The file's bytes are never read here (a list of a thousand scans is not loaded).
        return super().get_queryset(request).defer("content")


class DecisionResource(OfRecipientResource):
    class Meta:
        model = Decision


@admin.register(Decision)
class DecisionAdmin(PersonalDataAdmin):
    """Decisions as drafted, verified and approved on the staff pages; the admin reads them
    (with the links to the printed document) and changes nothing: not the state, not the
    number, not who drafted, verified or approved."""

    resource_classes = [DecisionResource]
    list_display = [
        "number",
        "kind",
        "state",
        "recipient",
        "amount",
        "effective_date",
        "drafted_by",
        "verified_by",
        "approved_by",
        "approved_at",
    ]
    list_filter = ["state", "kind", "recipient__payment_type", "needs_head_of_service", "approved_at"]
    list_select_related = ["recipient__participant", "drafted_by", "verified_by", "approved_by"]
    search_fields = ["=number", "=recipient__participant__iin", "=recipient__deceased__iin"]
    person_fields = ("recipient__participant__iin", "recipient__deceased__iin")
    readonly_fields = ["documents"]

    @admin.display(description=_("Document (PDF)"))
    def documents(self, decision: Decision) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("decision_pdf", kwargs={"pk": decision.pk, "lang": "kk"}),
            "Қазақша",
            reverse("decision_pdf", kwargs={"pk": decision.pk, "lang": "ru"}),
            "Русский",
        )


class DecisionProposalResource(OfRecipientResource):
    class Meta:
        model = DecisionProposal


@admin.register(DecisionProposal)
class DecisionProposalAdmin(PersonalDataAdmin):
    resource_classes = [DecisionProposalResource]
    list_display = ["recipient", "kind", "reason", "status", "created_at", "closed_by", "closed_at"]
    list_filter = ["status", "kind", "reason"]
    list_select_related = ["recipient__participant", "closed_by"]
    search_fields = ["=recipient__participant__iin"]
    person_fields = ("recipient__participant__iin",)


# --- Monthly payments: built, approved and confirmed on the staff pages; read and exported here.


@admin.register(Bank)
class BankAdmin(AdminGuardMixin, LoggedExportMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Reference data kept by the administrator: the banks that pay and their IBAN bank code."""

    list_display = ["bic", "name", "iban_code"]
    search_fields = ["=bic", "name"]
    # The bank's API accounts: the only machine accounts that may confirm its payment lists.
    filter_horizontal = ["confirmers"]


class BankAccountResource(OfRecipientResource):
    class Meta:
        model = BankAccount


@admin.register(BankAccount)
class BankAccountAdmin(PersonalDataAdmin):
    resource_classes = [BankAccountResource]
    list_display = ["recipient", "bank", "iban", "valid_from", "entered_by", "entered_at"]
    list_filter = ["bank", "valid_from"]
    list_select_related = ["recipient__participant", "bank", "entered_by"]
    search_fields = ["=recipient__participant__iin", "=iban"]
    person_fields = ("recipient__participant__iin",)


@admin.register(PaymentRun)
class PaymentRunAdmin(ReadOnlyAdmin):
    list_display = ["month", "state", "count", "gross", "withheld", "net", "held_back", "started_by", "approved_by"]
    list_filter = ["state"]
    exclude = ["progress"]


class MonthlyReportResource(AuditorResource):
    """A version of the report as a row: what it is (month, version, state), who generated and
    signed it and when, why, its checksum and whether it reconciled. Not its ``figures``: they
    name every payer by IIN/BIN, and the report's own download (``/reports/<pk>/report-<lang>.
    <fmt>``) is where they are read, logged with each payer. The fields are listed, not the
    figures left out: a field added to the model later is not exported unread."""

    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "month",
            "number",
            "state",
            "generated_by",
            "generated_at",
            "signed_by",
            "signed_at",
            "reason",
            "sha256",
            "reconciled",
        ]


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ReadOnlyAdmin):
    """The versions of the monthly report (Rules, paragraph 5): generated and signed on its page.
    The admin shows and exports each version's metadata, never its figures (which name the
    payers: ``MonthlyReportResource``)."""

    resource_classes = [MonthlyReportResource]
    list_display = ["month", "number", "state", "reconciled", "sha256", "generated_by", "signed_by", "signed_at"]
    list_filter = ["state", "reconciled"]
    exclude = ["figures"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MonthlyReport]:
        # The figures (every payer of the month) are never read here.
        return super().get_queryset(request).defer("figures")


@admin.register(PaymentList)
class PaymentListAdmin(ReadOnlyAdmin):
    list_display = ["number", "run", "bank", "count", "gross", "withheld", "net", "checksum"]
    list_filter = ["bank", "run"]
    list_select_related = ["run", "bank"]


class PaymentResource(OfRecipientResource):
    class Meta:
        model = Payment


@admin.register(Payment)
class PaymentAdmin(PersonalDataAdmin):
    resource_classes = [PaymentResource]
    list_display = ["month", "recipient", "payment_list", "line", "gross", "withheld", "net", "held_reason"]
    list_filter = ["month", "held_reason", "bank"]
    list_select_related = ["recipient__participant", "payment_list"]
    search_fields = ["=recipient__participant__iin", "=iban"]
    person_fields = ("recipient__participant__iin",)


class PaymentItemResource(AuditorResource):
    recipient_iin = fields.Field(
        attribute="payment__recipient__participant__iin", column_name="recipient_iin", readonly=True
    )
    recipient_name = fields.Field(
        attribute="payment__recipient__participant__full_name", column_name="recipient_name", readonly=True
    )

    class Meta:
        model = PaymentItem


@admin.register(PaymentItem)
class PaymentItemAdmin(PersonalDataAdmin):
    resource_classes = [PaymentItemResource]
    list_display = ["payment", "kind", "for_month", "gross", "withheld", "repays"]
    list_filter = ["kind", "for_month"]
    list_select_related = ["payment__recipient__participant"]
    search_fields = ["=payment__recipient__participant__iin"]
    person_fields = ("payment__recipient__participant__iin",)


@admin.register(ConfirmationFile)
class ConfirmationFileAdmin(ReadOnlyAdmin):
    """The banks' confirmations as received (metadata; the bytes stay with the file)."""

    list_display = ["file_name", "payment_list", "state", "credited", "not_credited", "received_by", "received_at"]
    list_filter = ["state", "received_at"]
    exclude = ["raw"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConfirmationFile]:
        return super().get_queryset(request).defer("raw")


class ConfirmationLineResource(AuditorResource):
    recipient_iin = fields.Field(
        attribute="payment__recipient__participant__iin", column_name="recipient_iin", readonly=True
    )
    recipient_name = fields.Field(
        attribute="payment__recipient__participant__full_name", column_name="recipient_name", readonly=True
    )

    class Meta:
        model = ConfirmationLine


@admin.register(ConfirmationLine)
class ConfirmationLineAdmin(PersonalDataAdmin):
    resource_classes = [ConfirmationLineResource]
    list_display = ["file", "line_no", "payment", "credited", "reason"]
    list_filter = ["credited"]
    list_select_related = ["payment__recipient__participant", "file"]
    search_fields = ["=payment__recipient__participant__iin"]
    person_fields = ("payment__recipient__participant__iin",)


class PaymentReturnResource(AuditorResource):
    recipient_iin = fields.Field(
        attribute="payment__recipient__participant__iin", column_name="recipient_iin", readonly=True
    )
    recipient_name = fields.Field(
        attribute="payment__recipient__participant__full_name", column_name="recipient_name", readonly=True
    )

    class Meta:
        model = PaymentReturn


@admin.register(PaymentReturn)
class PaymentReturnAdmin(PersonalDataAdmin):
    resource_classes = [PaymentReturnResource]
    list_display = ["payment", "reason", "created_at"]
    list_select_related = ["payment__recipient__participant"]
    search_fields = ["=payment__recipient__participant__iin"]
    person_fields = ("payment__recipient__participant__iin",)


class RecoveryResource(OfRecipientResource):
    class Meta:
        model = Recovery


@admin.register(Recovery)
class RecoveryAdmin(PersonalDataAdmin):
    resource_classes = [RecoveryResource]
    list_display = ["recipient", "for_month", "amount", "reason", "payment", "created_at"]
    list_filter = ["reason", "for_month"]
    list_select_related = ["recipient__participant", "payment"]
    search_fields = ["=recipient__participant__iin"]
    person_fields = ("recipient__participant__iin",)
