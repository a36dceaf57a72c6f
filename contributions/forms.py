from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.forms import DayField, MoneyField, NoteField

MAX_FILES = 50
MAX_FILE_BYTES = 50 * 1024 * 1024


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        if not files:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_FILES:
            raise ValidationError(_("Upload at most %(n)s files at once.") % {"n": MAX_FILES}, code="too_many")
        for upload in files:
            if upload.size > MAX_FILE_BYTES:
                raise ValidationError(_("%(name)s is larger than 50 MB.") % {"name": upload.name}, code="too_large")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class OrderUploadForm(forms.Form):
    order_files = MultipleFileField(
        label=_("Payment order files"),
        help_text=_("MT102 (one or many messages), or a CSV/XLSX list in the documented layout."),
    )
    received = DayField(
        label=_("Receipt date"),
        help_text=_("The bank-statement date the money arrived on the account."),
        initial=timezone.localdate,
    )

    def clean_received(self) -> Any:
        from contributions.services import receipt_date_problem

        received = self.cleaned_data["received"]
        problem = receipt_date_problem(received)
        if problem is not None:
            raise ValidationError(problem, code="receipt_date")
        return received


class ConfirmField(forms.BooleanField):
    """The explicit confirmation a decision about money needs (a checkbox on the form itself,
    not a script's dialog): unticked, nothing is decided."""

    def __init__(self, label: Any) -> None:
        super().__init__(
            label=label,
            required=True,
            error_messages={"required": _("Tick the box to confirm: this decision moves money.")},
        )


class ResolveReviewForm(forms.Form):
    """Returning an order in full (``order_resolve_review``): a reason and a confirmation."""

    note = NoteField(label=_("Reason for returning the order in full"))
    confirm = ConfirmField(_("I confirm: the whole order is returned to the payer and nothing of it is posted."))


class RefundRegisterForm(forms.Form):
    amount = MoneyField(label=_("Amount to refund"), min_value=Decimal("0.01"))
    request_number = forms.CharField(label=_("Payer's request number"), max_length=50)
    request_date = DayField(label=_("Payer's request date"))
    reason = NoteField(label=_("Reason"))


class RefundDecisionForm(forms.Form):
    """A head's decision on a refund (``refund_decide``): approving posts a negative entry, a
    rejection needs its reason, and either needs the confirmation."""

    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = NoteField(label=_("Note"), required=False, rows=2)
    confirm = ConfirmField(_("I confirm this decision on the refund."))
    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "reject" and not data.get("note", "").strip() and "note" not in self.errors:
            self.add_error("note", ValidationError(_("Give the reason the refund is refused."), code="required"))
        return data
