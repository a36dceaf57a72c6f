"""Forms of the recipient and case-file pages (Rules, paragraphs 10-12): registering an
applicant, dated changes of the paragraph 12 items, dependants, the case file's documents and
the inventory's filters. They read what staff type; the rules are the services'."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from payments.models import Dependant, DocumentKind, PaymentType, Recipient, RecipientStatus, Relation
from payments.services.recipients import MAX_DOCUMENT_BYTES, DependantData
from records.forms import DayField, NoteField
from records.identifiers import validate_iin_bin


def _with_empty(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """A choice list that starts with no choice ("—")."""
    return [("", "—"), *choices]


# The paragraph 12 items each payment type has on the registration form (items 17-21).
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    PaymentType.BREADWINNER: ("deceased_iin",),
    PaymentType.DISABILITY: ("loss_degree",),
    PaymentType.JOB_LOSS: ("unemployed_registered_on", "unemployed_certificate"),
    PaymentType.MATERNITY: ("leave_days",),
    PaymentType.CHILD_CARE: ("child_birth_order",),
}
# Items 5-9 of the applicant (the participant's), entered from the application: each given one
# becomes a dated change record of the participant (paragraph 9).
PERSONAL_FIELDS = (
    "address",
    "postal_code",
    "id_document_series",
    "id_document_number",
    "id_document_issued_on",
    "id_document_issuer",
    "citizenship",
)
# The items of paragraph 12 a specialist changes after registration, by payment type.
CHANGEABLE_BY_TYPE: dict[str, tuple[str, ...]] = {
    PaymentType.BREADWINNER: (),
    PaymentType.DISABILITY: ("loss_degree",),
    PaymentType.JOB_LOSS: ("unemployed_registered_on", "unemployed_certificate"),
    PaymentType.MATERNITY: ("leave_days",),
    PaymentType.CHILD_CARE: ("child_birth_order",),
}


def _iin_field(label: Any, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=12,
        min_length=12,
        required=required,
        validators=[validate_iin_bin],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


def _loss_degree() -> forms.IntegerField:
    return forms.IntegerField(label=_("Degree of lost ability to work, %"), required=False, min_value=1, max_value=100)


def _leave_days() -> forms.IntegerField:
    return forms.IntegerField(label=_("Days of maternity leave"), required=False, min_value=1, max_value=366)


def _birth_order() -> forms.IntegerField:
    return forms.IntegerField(label=_("Birth order of the child"), required=False, min_value=1, max_value=20)


class RecipientRegisterForm(forms.Form):
    """An applicant registered from the application (``recipient_register``)."""

    iin = _iin_field(_("Applicant's IIN"))
    payment_type = forms.ChoiceField(label=_("Payment type"), choices=_with_empty(PaymentType.choices))
    application_date = DayField(label=_("Date of the application"), initial=timezone.localdate)
    risk_date = DayField(
        label=_("Date of the social risk"),
        help_text=_("For loss of breadwinner: the date of death."),
    )
    # Item 17.
    loss_degree = _loss_degree()
    # Item 18 (the dependants are the formset below).
    deceased_iin = _iin_field(_("IIN of the deceased breadwinner"), required=False)
    # Item 19.
    unemployed_registered_on = DayField(label=_("Registered as unemployed on"), required=False)
    unemployed_certificate = forms.CharField(
        label=_("Certificate of registration as unemployed, number"), max_length=50, required=False
    )
    # Item 20.
    leave_days = _leave_days()
    # Item 21.
    child_birth_order = _birth_order()
    # Items 5-9, optional.
    address = forms.CharField(label=_("Address of the place of residence"), max_length=500, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    id_document_series = forms.CharField(label=_("Identity document series"), max_length=20, required=False)
    id_document_number = forms.CharField(label=_("Identity document number"), max_length=30, required=False)
    id_document_issued_on = DayField(label=_("Identity document issued on"), required=False)
    id_document_issuer = forms.CharField(label=_("Identity document issued by"), max_length=200, required=False)
    citizenship = forms.CharField(label=_("Citizenship"), max_length=100, required=False)

    def type_fields(self) -> dict[str, list[forms.BoundField]]:
        """The bound fields of each payment type's own items, for the page's sections."""
        return {code: [self[name] for name in names] for code, names in TYPE_FIELDS.items()}

    def personal_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in PERSONAL_FIELDS]

    def chosen_type(self) -> str:
        """The payment type the form is about (bound or initial), or "" when none is chosen."""
        value = self["payment_type"].value()
        return value if isinstance(value, str) and value in PaymentType.values else ""

    def service_arguments(self, dependants: list[DependantData]) -> dict[str, Any]:
        """``recipient_register``'s arguments from a valid form: only the chosen type's own
        items, and only the personal items typed (an empty box changes nothing)."""
        data = self.cleaned_data
        payment_type = data["payment_type"]
        arguments: dict[str, Any] = {
            "iin": data["iin"],
            "payment_type": payment_type,
            "application_date": data["application_date"],
            "risk_date": data["risk_date"],
        }
        for name in TYPE_FIELDS.get(payment_type, ()):
            value = data.get(name)
            if value not in (None, ""):
                arguments[name] = value
        if payment_type == PaymentType.BREADWINNER:
            arguments["dependants"] = dependants
        personal = {name: data[name] for name in PERSONAL_FIELDS if data.get(name) not in (None, "")}
        if personal:
            arguments["personal_items"] = personal
        return arguments


class DependantForm(forms.Form):
    """One dependant of a deceased breadwinner (item 18)."""

    iin = _iin_field(_("IIN"))
    full_name = forms.CharField(label=_("Full name"), max_length=300)
    birth_date = DayField(label=_("Date of birth"))
    relation = forms.ChoiceField(label=_("Relation to the deceased"), choices=_with_empty(Relation.choices))

    def dependant(self) -> DependantData:
        data = self.cleaned_data
        return DependantData(
            iin=data["iin"], full_name=data["full_name"], birth_date=data["birth_date"], relation=data["relation"]
        )


class DependantRowForm(DependantForm):
    """A dependant as one row of the registration form's table: each box named by its column."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            choice = isinstance(field, forms.ChoiceField)
            css = "form-select form-select-sm" if choice else "form-control form-control-sm"
            field.widget.attrs.update({"class": css, "aria-label": str(field.label)})


MAX_DEPENDANTS = 20
DependantFormSet = forms.formset_factory(
    DependantRowForm, extra=3, max_num=MAX_DEPENDANTS, validate_max=True, absolute_max=MAX_DEPENDANTS
)


def dependants_of(formset: Any) -> list[DependantData]:
    """The dependants of a valid formset: the rows filled in (empty extra rows are no one)."""
    return [form.dependant() for form in formset.forms if form.has_changed() and form.cleaned_data]


class RecipientChangeForm(forms.Form):
    """A dated change of the recipient's own items (``recipient_change_items``): the form shows
    the items of the recipient's type with their values in force; what differs is changed."""

    loss_degree = _loss_degree()
    unemployed_registered_on = DayField(label=_("Registered as unemployed on"), required=False)
    unemployed_certificate = forms.CharField(
        label=_("Certificate of registration as unemployed, number"), max_length=50, required=False
    )
    leave_days = _leave_days()
    child_birth_order = _birth_order()
    changed_on = DayField(label=_("Changed from"), initial=timezone.localdate)
    reason = NoteField(label=_("Reason for the change"), rows=2)

    def __init__(self, *args: Any, recipient: Recipient, **kwargs: Any) -> None:
        self.items = CHANGEABLE_BY_TYPE.get(recipient.payment_type, ())
        kwargs.setdefault("initial", {name: getattr(recipient, name) for name in self.items})
        super().__init__(*args, **kwargs)
        for name in [name for name in self.fields if name not in (*self.items, "changed_on", "reason")]:
            del self.fields[name]

    def changes(self) -> dict[str, Any]:
        """The items as typed (the service records the ones that differ); an emptied text box
        is the empty text, an emptied number or date is no value."""
        return {name: self.cleaned_data.get(name) for name in self.items}


class DependantAddForm(DependantForm):
    """A new dependant from a date, with the reason (``dependant_add``)."""

    since = DayField(label=_("Dependant from"))
    reason = NoteField(label=_("Reason for the change"), rows=2)


class DependantChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.iin} {obj.full_name}"


class DependantEndForm(forms.Form):
    """A dependant who stops being one from a date, with the reason (``dependant_end``)."""

    dependant = DependantChoiceField(label=_("Dependant"), queryset=Dependant.objects.none())
    until = DayField(label=_("Dependant until"))
    reason = NoteField(label=_("Reason for the change"), rows=2)

    def __init__(self, *args: Any, recipient: Recipient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active: QuerySet[Dependant] = recipient.dependants.filter(until__isnull=True).order_by("birth_date", "id")
        field = self.fields["dependant"]
        assert isinstance(field, DependantChoiceField)  # noqa: S101 - declared above
        field.queryset = active


# Characters a file name keeps: a name is shown on the page and sent back in a header, so no
# control characters (a NUL PostgreSQL cannot store, a line break a header cannot hold), no
# format characters (a right-to-left override that makes "scan‮fdp.exe" read "scan.exe.pdf").
_NAME_LIMIT = 255


def safe_file_name(name: str) -> str:
    """A file name as received, made safe to keep and to send back: the last part of any path,
    without control or format characters, with its spaces collapsed, at most 255 characters
    (the extension kept)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if len(name) > _NAME_LIMIT:
        stem, dot, extension = name.rpartition(".")
        extension = extension[:16] if dot and stem else ""
        name = name[: _NAME_LIMIT - len(extension) - 1].rstrip() + "." + extension if extension else name[:_NAME_LIMIT]
    return name or "document"


_MEGABYTES = MAX_DOCUMENT_BYTES // (1024 * 1024)


def _too_large_message() -> str:
    return gettext("The file is larger than %(limit)s MB.") % {"limit": _MEGABYTES}


def _file_help_text() -> str:
    return gettext("PDF, JPEG, PNG or TIFF, at most %(limit)s MB.") % {"limit": _MEGABYTES}


class CaseDocumentForm(forms.Form):
    """A document received for the case file with its scan (``case_document_add``, which reads
    the file's type from its bytes)."""

    kind = forms.ChoiceField(label=_("Kind of document"), choices=_with_empty(DocumentKind.choices))
    number = forms.CharField(label=_("Document number"), max_length=50, required=False)
    issued_on = DayField(label=_("Document date"), required=False)
    file = forms.FileField(
        label=_("Scanned document"),
        help_text=lazy(_file_help_text, str)(),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.tif,.tiff"}),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if (upload.size or 0) > MAX_DOCUMENT_BYTES:
            raise ValidationError(_too_large_message(), code="too_large")
        return upload

    def file_name(self) -> str:
        return safe_file_name(self.cleaned_data["file"].name or "")


class DocumentCheckForm(forms.Form):
    """The checker's word that the document matches what the applicant brought."""

    confirm = forms.BooleanField(
        label=_("Checked against the original"),
        required=True,
        error_messages={"required": _("Tick the box to confirm that you checked the document.")},
    )


class InventoryFilterForm(forms.Form):
    """The inventory of case files' filters. A value it does not know makes the form invalid:
    the page then lists nothing, with the error, never the whole inventory."""

    payment_type = forms.ChoiceField(label=_("Payment type"), choices=_with_empty(PaymentType.choices), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=_with_empty(RecipientStatus.choices), required=False)
    applied_from = DayField(label=_("Applied from"), required=False)
    applied_to = DayField(label=_("Applied to"), required=False)
    iin = _iin_field(_("IIN"), required=False)
    unchecked = forms.BooleanField(label=_("With documents not checked"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("applied_from"), data.get("applied_to")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.add_error("applied_to", ValidationError(_("The end date is before the start date."), code="range"))
        return data

    def selection(self) -> dict[str, Any]:
        """The filters of a valid form, as ``recipient_inventory`` takes them."""
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}
