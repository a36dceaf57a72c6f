"""Reads of the monthly payment runs: a run's totals per bank and what was held back, as the
``payment_run`` command, the run's page and the API show them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from payments.models import HeldReason, Payment, PaymentRun


def money(value: Decimal | None) -> str:
    return f"{(value or Decimal('0')):.2f}"


def run_summary(run: PaymentRun) -> dict[str, Any]:
    """One object: ``month``, ``state``, ``lists`` (each with its bank, number, count, gross,
    withheld, net and checksum), ``held_back`` (count and reasons) and the totals; amounts as
    strings with two decimals."""
    lists = [
        {
            "number": payment_list.number,
            "bank": payment_list.bank_id,
            "bank_name": payment_list.bank.name,
            "count": payment_list.count,
            "gross": money(payment_list.gross),
            "withheld": money(payment_list.withheld),
            "net": money(payment_list.net),
            "checksum": payment_list.checksum,
        }
        for payment_list in run.lists.select_related("bank").order_by("number")
    ]
    held = (
        Payment.objects.filter(run=run)
        .exclude(held_reason="")
        .values("held_reason")
        .annotate(count=Count("id"), net=Sum("net"))
        .order_by("held_reason")
    )
    return {
        "month": f"{run.month:%Y-%m}",
        "state": run.state,
        "lists": lists,
        "held_back": {
            "count": run.held_back,
            "reasons": [
                {
                    "reason": row["held_reason"],
                    "label": str(HeldReason(row["held_reason"]).label),
                    "count": row["count"],
                    "net": money(row["net"]),
                }
                for row in held
            ],
        },
        "totals": {
            "count": run.count,
            "gross": money(run.gross),
            "withheld": money(run.withheld),
            "net": money(run.net),
        },
        "progress": run.progress if run.state == "building" else {},
    }
