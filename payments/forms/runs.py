"""Forms of the monthly payments pages: starting a run, a step of its approval, a bank's
confirmation, a recipient's bank details and the work lists' filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contributions.services import DomainError
from payments.models import Bank, PaymentType, RecipientStatus
from payments.services.confirmations import MAX_BYTES
from payments.services.runs import month_of
from records.forms import DayField, NoteField

# The months a page may ask for: from the first contributions to the Fund (2005) to a year
# whose neighbouring months the calendar still holds (a dashboard reads twelve months back and
# one ahead; year 1 or 9999 would leave it).
FIRST_MONTH = date(2005, 1, 1)
LAST_MONTH = date(2099, 12, 1)


class MonthField(forms.CharField):
    """A month as YYYY-MM (the first day of it), from ``FIRST_MONTH`` to ``LAST_MONTH``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "2026-12", "inputmode": "numeric"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> date | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            month = month_of(text)
        except DomainError as exc:
            raise ValidationError(exc.messages[0]) from exc
        if not FIRST_MONTH <= month <= LAST_MONTH:
            raise ValidationError(
                _("A month from %(first)s to %(last)s, please: %(value)s.")
                % {"first": f"{FIRST_MONTH:%m.%Y}", "last": f"{LAST_MONTH:%m.%Y}", "value": text}
            )
        return month


class RunStartForm(forms.Form):
    month = MonthField(label=_("Month"))


class RunStepForm(forms.Form):
    version = forms.IntegerField(label=_("Version of the page"), min_value=1, widget=forms.HiddenInput)
    reason = NoteField(label=_("Why it is built again"), required=False, rows=1)


class ConfirmationUploadForm(forms.Form):
    file = forms.FileField(label=_("Confirmation file (CSV)"), max_length=255)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)})
        return upload


class BankAccountForm(forms.Form):
    bic = forms.ChoiceField(label=_("Bank"), choices=())
    iban = forms.CharField(label=_("Account (IBAN)"), max_length=40)
    valid_from = DayField(label=_("Valid from"))
    reason = NoteField(label=_("Reason"), rows=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bic = self.fields["bic"]
        assert isinstance(bic, forms.ChoiceField)  # noqa: S101 - declared above
        bic.choices = [(bank.bic, f"{bank.bic} {bank.name}") for bank in Bank.objects.all()]


class WorkListFilterForm(forms.Form):
    payment_type = forms.ChoiceField(label=_("Payment type"), required=False, choices=[("", "—"), *PaymentType.choices])
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", "—"), (RecipientStatus.IN_FORCE, RecipientStatus.IN_FORCE.label),
                 (RecipientStatus.SUSPENDED, RecipientStatus.SUSPENDED.label)],
    )  # fmt: skip
