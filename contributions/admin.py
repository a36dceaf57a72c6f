from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from contributions.models import (
    IncomingFile,
    LedgerEntry,
    OrderLine,
    PaymentOrder,
    PurposeCode,
    Refund,
    ReturnDocument,
)
from contributions.problems import word
from records.admin_export import AdminGuardMixin, LoggedExportMixin, PersonalDataAdmin, ReadOnlyAdmin


@admin.register(IncomingFile)
class IncomingFileAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "door", "file_name", "size", "encoding", "received", "submitted_label"]
    list_filter = ["door", "received"]
    exclude = ["raw"]


@admin.register(PaymentOrder)
class PaymentOrderAdmin(PersonalDataAdmin):
    """The payer's IIN/BIN is personal data when the payer is a person (an entrepreneur paying
    for themselves): reads are logged with it."""

    list_display = ["reference", "number", "payer_idn", "knp", "received", "status", "lines_total", "total"]
    list_filter = ["status", "knp", "received"]
    search_fields = ["=payer_idn", "=reference"]
    readonly_fields = ["problems"]
    person_fields = ("payer_idn",)

    @admin.display(description=_("Problems with this order"))
    def problems(self, order: PaymentOrder) -> str:
        """The stored problems worded in the reader's language (``errors`` holds them as stored)."""
        return format_html_join(mark_safe("<br>"), "{}", ((word(entry),) for entry in order.errors)) or "—"


@admin.register(OrderLine)
class OrderLineAdmin(PersonalDataAdmin):
    list_display = ["order", "sequence", "iin", "last_name", "first_name", "period", "amount", "status", "reason"]
    list_filter = ["status", "reason"]
    list_select_related = ["order"]
    search_fields = ["=iin"]
    person_fields = ("iin",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(PersonalDataAdmin):
    """The personal account is append-only (a database trigger refuses updates and deletes)."""

    list_display = ["participant", "period", "kind", "amount", "payer_idn", "order", "received", "posted_at"]
    list_filter = ["kind", "period"]
    list_select_related = ["participant", "order"]
    search_fields = ["=participant__iin", "=payer_idn"]
    person_fields = ("participant__iin", "payer_idn")


@admin.register(ReturnDocument)
class ReturnDocumentAdmin(ReadOnlyAdmin):
    list_display = ["number", "order", "lines_count", "total", "created_at"]


@admin.register(Refund)
class RefundAdmin(PersonalDataAdmin):
    list_display = ["request_number", "payer_idn", "amount", "status", "registered_by", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["registered_by", "decided_by"]
    person_fields = ("entry__participant__iin", "payer_idn")


@admin.register(PurposeCode)
class PurposeCodeAdmin(AdminGuardMixin, LoggedExportMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Effective-dated data an administrator keeps (a new KNP or an end date is a new row)."""

    list_display = ["code", "ledger_kind", "name_ru", "valid_from", "valid_to"]
