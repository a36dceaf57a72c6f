"""Forms of the decision pages: drafting and correcting a decision, a step of its approval, and
dismissing a proposal. The rules are the services' (payments.services.decisions); a form only
reads what was typed and shows the fields a decision of that kind can use."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.models import DecisionKind, EndReason
from records.forms import DayField, NoteField

# What each kind of decision is given by the drafter (the rest the system computes).
FIELDS_OF_KIND: dict[str, tuple[str, ...]] = {
    DecisionKind.ASSIGN: ("period_end",),
    DecisionKind.SUSPEND: ("effective_date", "suspend_deadline"),
    DecisionKind.RESUME: ("effective_date",),
    DecisionKind.TERMINATE: ("effective_date", "end_reason"),
    DecisionKind.RECALCULATE: (),
}
KIND_FIELDS = ("effective_date", "suspend_deadline", "end_reason", "period_end")


class _DecisionFields(forms.Form):
    effective_date = DayField(
        label=_("Takes effect on"),
        required=False,
        help_text=_("To suspend, resume or terminate: the date the decision takes effect."),
    )
    suspend_deadline = DayField(
        label=_("Deadline to clear the reason of the suspension"),
        required=False,
        help_text=_("To suspend: withdrawn by this date, the suspended months are paid."),
    )
    end_reason = forms.ChoiceField(
        label=_("Reason the payment ends"),
        required=False,
        choices=[("", "—"), *EndReason.choices],
        help_text=_("To terminate."),
    )
    period_end = DayField(
        label=_("Paid until"),
        required=False,
        help_text=_(
            "To assign a payment for loss of ability to work or of the breadwinner: the end of the МСЭ"
            " period or of the dependants' right; empty for no end date."
        ),
    )
    note = NoteField(label=_("Grounds"), required=False)

    def keep_fields(self, names: set[str]) -> None:
        """Only the fields of the kinds this decision can be."""
        for name in KIND_FIELDS:
            if name not in names:
                del self.fields[name]

    def decision_values(self) -> dict[str, Any]:
        """The cleaned values the service takes (fields not shown are not given)."""
        values = {name: self.cleaned_data.get(name) for name in KIND_FIELDS if name in self.fields}
        if "end_reason" in values:
            values["end_reason"] = values["end_reason"] or ""
        return values


class DecisionDraftForm(_DecisionFields):
    """Drafting a decision: the kinds the recipient's status allows and what they need."""

    field_order = ["kind", *KIND_FIELDS, "note"]

    kind = forms.ChoiceField(label=_("Kind of decision"), widget=forms.RadioSelect)
    proposal = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kinds: tuple[str, ...], period_end: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, DecisionKind(kind).label) for kind in kinds]  # type: ignore[attr-defined]
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0]
        wanted = {name for kind in kinds for name in FIELDS_OF_KIND[kind]}
        if not period_end:
            wanted.discard("period_end")
        self.keep_fields(wanted)


class DecisionRedraftForm(_DecisionFields):
    """Correcting a draft or a decision returned to the drafter: the fields of its kind, and the
    version the page showed (a page out of date changes nothing)."""

    version = forms.IntegerField(label=_("Version of the page"), min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kind: str, period_end: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        wanted = set(FIELDS_OF_KIND[kind])
        if not period_end:
            wanted.discard("period_end")
        self.keep_fields(wanted)


class DecisionStepForm(forms.Form):
    """A step of the approval (submit, verify, approve, reject): the version of the decision the
    page showed, and the reason a rejection gives (the service requires it)."""

    version = forms.IntegerField(label=_("Version of the page"), min_value=1, widget=forms.HiddenInput)
    reason = NoteField(label=_("Reason it is returned"), required=False, rows=2)


class ProposalDismissForm(forms.Form):
    note = NoteField(label=_("Why no decision is needed"), rows=2)
