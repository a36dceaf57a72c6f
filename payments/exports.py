"""Decisions and payments as large exports (``records.exports``; issue 19). Registered by
``PaymentsConfig.ready``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from payments.forms.runs import MonthField
from payments.models import Bank, Decision, DecisionKind, DecisionState, HeldReason, Payment, PaymentType
from records.exports import (
    Column,
    ExportFilterForm,
    ExportKind,
    IdentifierField,
    any_choice,
    conditions,
    full_name,
    register,
)
from records.forms import DayField


class ExportMonthField(MonthField):
    """A month as YYYY-MM, stored as such in the job's filters."""

    def to_json(self, value: date) -> str:
        return f"{value:%Y-%m}"


class DecisionFilters(ExportFilterForm):
    state = forms.ChoiceField(label=_("State"), choices=any_choice(DecisionState.choices), required=False)
    decision_kind = forms.ChoiceField(
        label=_("Kind of decision"), choices=any_choice(DecisionKind.choices), required=False
    )
    payment_type = forms.ChoiceField(label=_("Payment type"), choices=any_choice(PaymentType.choices), required=False)
    effective_from = DayField(label=_("Effective from"), required=False)
    effective_to = DayField(label=_("Effective to"), required=False)
    recipient_iin = IdentifierField(label=_("Recipient IIN"))


def decision_rows(filters: dict[str, Any]) -> QuerySet[Decision]:
    lookups = {
        "state": "state",
        "decision_kind": "kind",
        "payment_type": "recipient__payment_type",
        "effective_from": "effective_date__gte",
        "effective_to": "effective_date__lte",
        "recipient_iin": "recipient__participant__iin",
    }
    return Decision.objects.filter(**conditions(filters, lookups)).order_by("id")


DECISIONS = register(
    ExportKind(
        name="decisions",
        label=_("Decisions on social payments"),
        model=Decision,
        permission="payments.view_decision",
        form=DecisionFilters,
        columns=(
            Column("number"),
            Column("kind"),
            Column("state"),
            Column("recipient__participant__iin"),
            Column("recipient__participant__full_name", value=full_name("recipient__participant")),
            Column("recipient__payment_type"),
            Column("recipient__deceased__iin", label=_("Deceased breadwinner: IIN")),
            Column("effective_date"),
            Column("amount"),
            Column("lump_sum"),
            Column("period_start"),
            Column("period_end"),
            Column("drafted_at"),
            Column("approved_at"),
        ),
        persons=("recipient__participant__iin", "recipient__deceased__iin"),
        rows=decision_rows,
        admin_filters={
            "state__exact": "state",
            "kind__exact": "decision_kind",
            "recipient__payment_type__exact": "payment_type",
        },
    )
)


class PaymentFilters(ExportFilterForm):
    month_from = ExportMonthField(label=_("From month"), required=False)
    month_to = ExportMonthField(label=_("To month"), required=False)
    bank = forms.ModelChoiceField(
        label=_("Bank"), queryset=Bank.objects.order_by("bic"), to_field_name="bic", required=False
    )
    held = forms.ChoiceField(
        label=_("Held back"),
        choices=[("", "—"), ("paid", _("Paid (on a list)")), ("held", _("Held back"))],
        required=False,
    )
    held_reason = forms.ChoiceField(
        label=_("Held back because"), choices=any_choice(HeldReason.choices), required=False
    )
    payment_type = forms.ChoiceField(label=_("Payment type"), choices=any_choice(PaymentType.choices), required=False)
    recipient_iin = IdentifierField(label=_("Recipient IIN"))

    def as_json(self) -> dict[str, Any]:
        data = super().as_json()
        if "bank" in data:
            data["bank"] = self.cleaned_data["bank"].bic
        return data


def payment_rows(filters: dict[str, Any]) -> QuerySet[Payment]:
    lookups = {
        "month_from": "month__gte",
        "month_to": "month__lte",
        "bank": "bank",
        "held_reason": "held_reason",
        "payment_type": "recipient__payment_type",
        "recipient_iin": "recipient__participant__iin",
    }
    rows = Payment.objects.filter(**conditions(filters, lookups))
    if filters.get("held") == "held":
        rows = rows.exclude(held_reason="")
    elif filters.get("held") == "paid":
        rows = rows.filter(held_reason="")
    return rows.order_by("id")


PAYMENTS = register(
    ExportKind(
        name="payments",
        label=_("Monthly payments"),
        model=Payment,
        permission="payments.view_payment",
        form=PaymentFilters,
        columns=(
            Column("month"),
            Column("recipient__participant__iin"),
            Column("recipient__participant__full_name", value=full_name("recipient__participant")),
            Column("recipient__payment_type"),
            Column("payment_list__number"),
            Column("line"),
            Column("monthly"),
            Column("days_paid"),
            Column("days_in_month"),
            Column("other"),
            Column("gross"),
            Column("withholding_rate"),
            Column("withheld"),
            Column("net"),
            Column("bank", value="bank_id"),
            Column("iban"),
            Column("held_reason"),
        ),
        persons=("recipient__participant__iin",),
        rows=payment_rows,
        admin_filters={"held_reason__exact": "held_reason", "bank__bic__exact": "bank", "bank__exact": "bank"},
    )
)
