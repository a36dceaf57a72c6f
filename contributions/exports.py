"""The ledger and the order lines as large exports (``records.exports``; issue 19). Registered by
``ContributionsConfig.ready``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from contributions.models import EntryKind, LedgerEntry, LineStatus, OrderLine, ReturnReason
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


class LedgerFilters(ExportFilterForm):
    period_from = DayField(label=_("Period from"), required=False)
    period_to = DayField(label=_("Period to"), required=False)
    received_from = DayField(label=_("Received from"), required=False)
    received_to = DayField(label=_("Received to"), required=False)
    entry_kind = forms.ChoiceField(label=_("Kind"), choices=any_choice(EntryKind.choices), required=False)
    payer_idn = IdentifierField(label=_("Payer IIN/BIN"))
    participant_iin = IdentifierField(label=_("Participant IIN"))


def ledger_rows(filters: dict[str, Any]) -> QuerySet[LedgerEntry]:
    rows = LedgerEntry.objects.all()
    lookups = {
        "period_from": "period__gte",
        "period_to": "period__lte",
        "received_from": "received__gte",
        "received_to": "received__lte",
        "entry_kind": "kind",
        "payer_idn": "payer_idn",
        "participant_iin": "participant__iin",
    }
    return rows.filter(**conditions(filters, lookups)).order_by("id")


LEDGER = register(
    ExportKind(
        name="ledger",
        label=_("Personal account entries (ledger)"),
        model=LedgerEntry,
        permission="contributions.view_ledgerentry",
        form=LedgerFilters,
        columns=(
            Column("id", label=_("Entry")),
            Column("participant__iin"),
            Column("participant__full_name", value=full_name("participant")),
            Column("period"),
            Column("kind"),
            Column("amount"),
            Column("payer_idn"),
            Column("order__reference"),
            Column("received"),
            Column("posted_at"),
            Column("corrects", value="corrects_id"),
        ),
        persons=("participant__iin", "payer_idn"),
        rows=ledger_rows,
        admin_filters={
            "kind__exact": "entry_kind",
            "period__gte": "period_from",
            "period__lt": "period_to",
        },
    )
)


class OrderLineFilters(ExportFilterForm):
    received_from = DayField(label=_("Received from"), required=False)
    received_to = DayField(label=_("Received to"), required=False)
    period_from = DayField(label=_("Period from"), required=False)
    period_to = DayField(label=_("Period to"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=any_choice(LineStatus.choices), required=False)
    reason = forms.ChoiceField(label=_("Return reason"), choices=any_choice(ReturnReason.choices), required=False)
    payer_idn = IdentifierField(label=_("Payer IIN/BIN"))
    iin = IdentifierField(label=_("IIN on the line"))


def order_line_rows(filters: dict[str, Any]) -> QuerySet[OrderLine]:
    lookups = {
        "received_from": "order__received__gte",
        "received_to": "order__received__lte",
        "period_from": "period__gte",
        "period_to": "period__lte",
        "status": "status",
        "reason": "reason",
        "payer_idn": "order__payer_idn",
        "iin": "iin",
    }
    return OrderLine.objects.filter(**conditions(filters, lookups)).order_by("id")


ORDER_LINES = register(
    ExportKind(
        name="order_lines",
        label=_("Payment order lines"),
        model=OrderLine,
        permission="contributions.view_orderline",
        form=OrderLineFilters,
        columns=(
            Column("order__reference"),
            Column("order__number"),
            Column("order__payer_idn"),
            Column("order__payer_name"),
            Column("order__received"),
            Column("sequence"),
            Column("iin"),
            Column("full_name", value=full_name(), label=_("Full name as sent")),
            Column("birth_date"),
            Column("period"),
            Column("amount"),
            Column("status"),
            Column("reason"),
        ),
        persons=("iin", "order__payer_idn"),
        rows=order_line_rows,
        admin_filters={"status__exact": "status", "reason__exact": "reason", "q": "iin"},
    )
)
