"""Staff pages of recipients and their case files (Rules, paragraphs 10-12 and 14): registering
an applicant from the application, the recipient with the items of paragraph 12, dated changes
and dependants, the case file's documents, and the inventory of case files with its export.

Thin views: the forms read the input, the services in ``payments.services.recipients`` decide
and write, the selectors in ``payments.selectors.recipients`` read. Every read of a recipient's
personal data is logged (``records.access.log_access``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from payments.forms.recipients import (
    CaseDocumentForm,
    DependantAddForm,
    DependantEndForm,
    DependantFormSet,
    DocumentCheckForm,
    InventoryFilterForm,
    RecipientChangeForm,
    RecipientRegisterForm,
    dependants_of,
    safe_file_name,
)
from payments.forms.runs import BankAccountForm
from payments.models import CaseDocument, PaymentType, Recipient
from payments.selectors.recipients import (
    RECIPIENT_KEYS,
    InventoryRow,
    case_document,
    case_documents,
    decision_deadline,
    inventory_rows,
    open_proposals,
    recipient_changes,
    recipient_decisions,
    recipient_dependants,
    recipient_for_page,
    recipient_inventory,
    registration_deadline,
)
from payments.selectors.runs import recipient_payments
from payments.services.recipients import (
    MAX_DOCUMENT_BYTES,
    case_document_add,
    case_document_check,
    dependant_add,
    dependant_end,
    recipient_change_items,
    recipient_register,
)
from records.access import log_access, requires, shown_iins
from records.identifiers import identifier_error
from records.models import AccessLog, Participant
from records.paging import keyset_page
from records.spreadsheets import CONTENT_TYPES, table_csv, table_xlsx

PAGE = 50
# What the form's other fields may add to an upload's body beside the file itself.
UPLOAD_FORM_OVERHEAD = 64 * 1024
EXPORT_FORMATS = ("csv", "xlsx")


def _refusal(exc: ValidationError) -> str:
    """A service's refusal (``DomainError``) or a model's validation error, as one message."""
    return " ".join(str(message) for message in exc.messages)


def _form_errors(form: Any) -> str:
    """A refused form's errors as one message (forms posted from the recipient's page, answered
    by a redirect), each naming its field."""
    return " ".join(
        str(message) if name == "__all__" else f"{form[name].label}: {message}"
        for name, errors in form.errors.items()
        for message in errors
    )


def _recipient(pk: int) -> Recipient:
    recipient = recipient_for_page(pk)
    if recipient is None:
        raise Http404
    return recipient


# --- Registering an applicant (paragraph 10) -----------------------------------------------


def _known_iin(value: str) -> str:
    """``value`` when it is a valid IIN (a query string may hold anything), else ""."""
    return value if len(value) == 12 and identifier_error(value) is None else ""


@requires("payments.add_recipient")
@require_http_methods(["GET", "POST"])
def recipient_new(request: HttpRequest) -> HttpResponse:
    """Register an applicant from the application: IIN, payment type, the dates and the type's
    own items (the page shows only the chosen type's; the server takes only those), and the
    personal items 5-9 the application gives. A refusal is shown on the form; nothing is
    written."""
    applicant: Participant | None = None
    if request.method == "POST":
        form = RecipientRegisterForm(request.POST)
        dependants = DependantFormSet(request.POST, prefix="dependants")
        if form.is_valid():
            is_breadwinner = form.cleaned_data["payment_type"] == PaymentType.BREADWINNER
            if not is_breadwinner or dependants.is_valid():
                people = dependants_of(dependants) if is_breadwinner else []
                try:
                    recipient = recipient_register(
                        actor=request.user,  # type: ignore[arg-type]  # @requires: signed in
                        **form.service_arguments(people),
                    )
                except ValidationError as exc:
                    form.add_error(None, ValidationError(_refusal(exc)))
                else:
                    messages.success(
                        request,
                        _("The application was registered: case file %(case)s.") % {"case": recipient.case_number},
                    )
                    return redirect("recipient_detail", pk=recipient.pk)
    else:
        iin = _known_iin(request.GET.get("iin", ""))
        payment_type = request.GET.get("payment_type", "")
        initial: dict[str, Any] = {"application_date": timezone.localdate()}
        if iin:
            initial["iin"] = iin
            applicant = Participant.objects.filter(iin=iin).first()
        if payment_type in PaymentType.values:
            initial["payment_type"] = payment_type
        form = RecipientRegisterForm(initial=initial)
        dependants = DependantFormSet(prefix="dependants")
        if applicant is not None:  # the page names the applicant: a read of his data
            log_access(request, kind=AccessLog.Kind.VIEW, view="recipient_register", participant=applicant)
    context = {"form": form, "dependants": dependants, "applicant": applicant, "payment_types": PaymentType}
    return render(request, "payments/recipients/register.html", context)


# --- The recipient's page (paragraphs 12 and 14) ---------------------------------------------


@requires("payments.view_recipient")
@require_GET
def recipient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The recipient with the items of paragraph 12, the dated changes, the dependants, the
    decisions and proposals, the case file and the deadlines of the application."""
    recipient = _recipient(pk)
    dependants = list(recipient_dependants(recipient))
    others = [d.iin for d in dependants]
    if recipient.deceased is not None:
        others.append(recipient.deceased.iin)
    log_access(
        request,
        kind=AccessLog.Kind.VIEW,
        view="recipient_detail",
        participant=recipient.participant,
        query={
            "recipient": recipient.pk,
            "payments": request.user.has_perm("payments.view_payment"),
            **shown_iins([recipient.participant.iin, *others]),
        },
    )
    user = request.user
    context: dict[str, Any] = {
        "recipient": recipient,
        "participant": recipient.participant,
        "dependants": dependants,
        "active_dependants": [d for d in dependants if d.until is None],
        "changes": [(change, item_label(change.item)) for change in recipient_changes(recipient)[:200]],
        "decisions": list(recipient_decisions(recipient)),
        "proposals": list(open_proposals(recipient)),
        "documents": list(case_documents(recipient)),
        "registration_deadline": registration_deadline(recipient),
        "decision_deadline": decision_deadline(recipient),
        "is_breadwinner": recipient.payment_type == PaymentType.BREADWINNER,
    }
    if user.has_perm("payments.change_recipient"):
        change_form = RecipientChangeForm(recipient=recipient)
        context["change_form"] = change_form if change_form.items else None
        if context["is_breadwinner"]:
            context["dependant_add_form"] = DependantAddForm(prefix="add")
            context["dependant_end_form"] = DependantEndForm(recipient=recipient, prefix="end")
    if user.has_perm("payments.view_bankaccount"):
        context["bank_accounts"] = list(recipient.bank_accounts.select_related("bank", "entered_by"))
    if user.has_perm("payments.add_bankaccount") and recipient.status != "terminated":
        context["bank_form"] = BankAccountForm(initial={"valid_from": timezone.localdate().replace(day=1)})
    if user.has_perm("payments.view_payment"):
        context["payments"] = recipient_payments(recipient)
    if user.has_perm("payments.add_casedocument"):
        context["upload_form"] = CaseDocumentForm()
    if user.has_perm("payments.check_casedocument"):
        context["check_form"] = DocumentCheckForm()
    return render(request, "payments/recipients/detail.html", context)


def item_label(item: str) -> str:
    """A changed item of paragraph 12 by its name in the reader's language."""
    if item == "dependants":
        return _("Number of dependants")
    try:
        field = Recipient._meta.get_field(item)
    except FieldDoesNotExist:
        return item
    return str(capfirst(getattr(field, "verbose_name", item)))


def _back_to(recipient_id: int, anchor: str) -> HttpResponse:
    return redirect(reverse("recipient_detail", kwargs={"pk": recipient_id}) + f"#{anchor}")


@requires("payments.change_recipient")
@require_POST
def recipient_change(request: HttpRequest, pk: int) -> HttpResponse:
    """A dated change of the recipient's own items with its reason: a change record of each item
    that differs, never an overwrite without a trace."""
    recipient = _recipient(pk)
    form = RecipientChangeForm(request.POST, recipient=recipient)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to(recipient.pk, "changes")
    try:
        records = recipient_change_items(
            recipient_id=recipient.pk,
            changes=form.changes(),
            changed_on=form.cleaned_data["changed_on"],
            reason=form.cleaned_data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
    else:
        if records:
            count = len(records)
            messages.success(
                request,
                ngettext("%(n)s item was changed.", "%(n)s items were changed.", count) % {"n": count},
            )
        else:
            messages.info(request, _("Nothing differs from the values in force: nothing was changed."))
    return _back_to(recipient.pk, "changes")


@requires("payments.change_recipient")
@require_POST
def dependant_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A new dependant of a breadwinner recipient from a date (item 18)."""
    recipient = _recipient(pk)
    form = DependantAddForm(request.POST, prefix="add")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to(recipient.pk, "dependants")
    try:
        dependant_add(
            recipient_id=recipient.pk,
            dependant=form.dependant(),
            since=form.cleaned_data["since"],
            reason=form.cleaned_data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(request, _("The dependant was added."))
    return _back_to(recipient.pk, "dependants")


@requires("payments.change_recipient")
@require_POST
def dependant_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A dependant of the recipient stops being one from a date (item 18)."""
    recipient = _recipient(pk)
    form = DependantEndForm(request.POST, recipient=recipient, prefix="end")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to(recipient.pk, "dependants")
    try:
        dependant_end(
            dependant_id=form.cleaned_data["dependant"].pk,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(request, _("The dependant was ended."))
    return _back_to(recipient.pk, "dependants")


# --- The case file's documents ---------------------------------------------------------------


class DocumentSizeLimit(FileUploadHandler):
    """Stops keeping an uploaded file once it passes ``limit`` bytes: the rest of it is read
    from the connection and dropped, never written to memory or disk, and the form is told."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _too_large() -> str:
    return _("The file is larger than %(limit)s MB.") % {"limit": MAX_DOCUMENT_BYTES // (1024 * 1024)}


@requires("payments.add_casedocument")
@csrf_exempt  # the CSRF check runs below, once the upload's size limit is in place
@require_POST
def case_document_upload(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A document received for the case file, with its scan. An upload larger than the limit is
    refused before its body is read when the request says its length, and otherwise as soon as
    the file passes the limit; nothing is stored."""
    recipient = _recipient(pk)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_DOCUMENT_BYTES + UPLOAD_FORM_OVERHEAD:
        messages.error(request, _too_large())
        return _back_to(recipient.pk, "documents")
    limit = DocumentSizeLimit(request, MAX_DOCUMENT_BYTES)
    request.upload_handlers = [limit, *request.upload_handlers]
    return _case_document_store(request, recipient, limit)


@csrf_protect
def _case_document_store(request: HttpRequest, recipient: Recipient, limit: DocumentSizeLimit) -> HttpResponse:
    form = CaseDocumentForm(request.POST, request.FILES)
    if limit.exceeded:
        messages.error(request, _too_large())
        return _back_to(recipient.pk, "documents")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to(recipient.pk, "documents")
    upload = form.cleaned_data["file"]
    try:
        document = case_document_add(
            recipient_id=recipient.pk,
            kind=form.cleaned_data["kind"],
            number=form.cleaned_data["number"],
            issued_on=form.cleaned_data["issued_on"],
            file_name=form.file_name(),
            content=upload.read(),
            actor=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(request, _("%(name)s was added to the case file.") % {"name": document.file_name})
    return _back_to(recipient.pk, "documents")


@requires("payments.view_casedocument")
@require_GET
def case_document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The scan as received, as an attachment of the type read from its bytes; the read is
    logged with the recipient it belongs to."""
    document = case_document(pk)
    if document is None:
        raise Http404
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(True, safe_file_name(document.file_name)) or ""
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view="case_document_download",
        participant=document.recipient.participant,
        query={"document": document.pk, "recipient": document.recipient_id, "sha256": document.sha256},
        row_count=1,
    )
    return response


@requires("payments.check_casedocument")
@require_POST
def case_document_check_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a document checked against the original: who checked it and when."""
    document = CaseDocument.objects.defer("content").filter(pk=pk).first()
    if document is None:
        raise Http404
    form = DocumentCheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back_to(document.recipient_id, "documents")
    try:
        case_document_check(document_id=document.pk, actor=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(request, _("The document was marked checked."))
    return _back_to(document.recipient_id, "documents")


# --- The inventory of case files and its export ----------------------------------------------


def _inventory(request: HttpRequest) -> tuple[InventoryFilterForm, dict[str, Any], bool]:
    """The filter form, what it selects, and whether it was refused (then nothing is listed)."""
    form = InventoryFilterForm(request.GET or None)
    if not form.is_bound:
        return form, {}, False
    if not form.is_valid():
        return form, {}, True
    return form, form.selection(), False


def _logged_filters(selection: dict[str, Any]) -> dict[str, Any]:
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in selection.items()}


@requires("payments.view_recipient")
@require_GET
def recipient_list(request: HttpRequest) -> HttpResponse:
    """The inventory of case files: filtered by payment type, status, date of the application,
    IIN and documents not checked yet; a keyset page at a time; exported as CSV or XLSX."""
    form, selection, refused = _inventory(request)
    rows = Recipient.objects.none() if refused else recipient_inventory(**selection)
    page = keyset_page(request, rows, RECIPIENT_KEYS, descending=True, per_page=PAGE)
    log_access(
        request,
        kind=AccessLog.Kind.SEARCH if selection.get("iin") else AccessLog.Kind.VIEW,
        view="recipient_list",
        query={**_logged_filters(selection), **shown_iins(r.participant.iin for r in page.object_list)},
        row_count=len(page.object_list),
    )
    filters = urlencode([(name, request.GET[name]) for name in form.fields if request.GET.get(name)])
    context = {
        "form": form,
        "page": page,
        "export_query": filters,
        "export_limit": settings.EXPORT_MAX_ROWS,
    }
    return render(request, "payments/recipients/list.html", context)


def _columns() -> list[str]:
    return [
        _("Case file"),
        _("IIN"),
        _("Full name"),
        _("Payment type"),
        _("Date of the application"),
        _("Date of the social risk"),
        _("Status"),
        _("Amount in force"),
        _("Documents"),
        _("Not checked"),
    ]


def _cells(row: InventoryRow) -> list[Any]:
    return [
        row.case_number,
        row.iin,
        row.full_name,
        row.payment_type,
        row.application_date,
        row.risk_date,
        row.status,
        row.amount,
        row.documents,
        row.unchecked,
    ]


def _cut_note(limit: int) -> str:
    return _(
        "The export stops at %(limit)s case files, the most one export holds: filter the list (for example by "
        "the date of the application) and export each part."
    ) % {"limit": formats.number_format(limit, force_grouping=True)}


def inventory_csv(rows: Sequence[InventoryRow], *, cut: str = "") -> bytes:
    """The inventory as CSV that Excel opens in Kazakh and Russian (``records.spreadsheets``)."""
    return table_csv(_columns(), [_cells(row) for row in rows], cut=cut)


def inventory_xlsx(rows: Sequence[InventoryRow], *, cut: str = "") -> bytes:
    return table_xlsx(_("Case files"), _columns(), [_cells(row) for row in rows], cut=cut)


@requires("payments.view_recipient")
@require_GET
def case_inventory_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The inventory as filtered on its page, one row per case file, at most
    ``EXPORT_MAX_ROWS`` (the file says so when it stops there); logged with every person in it."""
    if fmt not in EXPORT_FORMATS:
        raise Http404
    _form, selection, refused = _inventory(request)
    if refused:  # the list shows why
        return redirect(f"{reverse('recipient_list')}?{request.GET.urlencode()}")
    limit = settings.EXPORT_MAX_ROWS
    rows = list(inventory_rows(recipient_inventory(**selection), limit=limit + 1))
    cut = _cut_note(limit) if len(rows) > limit else ""
    rows = rows[:limit]
    content = inventory_csv(rows, cut=cut) if fmt == "csv" else inventory_xlsx(rows, cut=cut)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    name = f"case-files-{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view="case_inventory_export",
        query={
            "filters": _logged_filters(selection),
            "format": fmt,
            **({"cut_at": limit} if cut else {}),
            **shown_iins((row.iin for row in rows), limit=None),
        },
        row_count=len(rows),
    )
    return response
