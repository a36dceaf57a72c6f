"""Reads of the monthly payment runs: a run's totals per bank and what was held back, as the
``payment_run`` command, the run's page and the API show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payments.models import (
    DecisionProposal,
    HeldReason,
    Payment,
    PaymentReturn,
    PaymentRun,
    Recipient,
    RecipientStatus,
    Recovery,
    RunState,
)


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


# --- Pages -------------------------------------------------------------------------------------


def runs_page() -> QuerySet[PaymentRun]:
    return PaymentRun.objects.select_related("started_by", "approved_by").order_by("-month")


def held_back_payments(run: PaymentRun) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(run=run)
        .exclude(held_reason="")
        .select_related("recipient__participant")
        .order_by("held_reason", "recipient_id")
    )


def returns_page() -> QuerySet[PaymentReturn]:
    return PaymentReturn.objects.select_related(
        "payment__recipient__participant", "payment__run", "line__file", "payment__repaid_by__payment__run"
    ).order_by("-created_at", "-id")


def recoveries_page() -> QuerySet[Recovery]:
    return Recovery.objects.select_related("recipient__participant", "payment__run").order_by("-created_at", "-id")


def recipient_payments(recipient: Recipient) -> list[dict[str, Any]]:
    """Paragraph 12 items 24-25 on the recipient's page: every payment by month with its items,
    withholding, list or hold, what the bank said, and the recoveries of each month."""
    payments = (
        Payment.objects.filter(recipient=recipient)
        .select_related("run", "payment_list", "confirmation", "payment_return")
        .prefetch_related("items")
        .order_by("-month", "-id")
    )
    recoveries: dict[Any, list[Recovery]] = {}
    for recovery in recipient.recoveries.order_by("for_month", "id"):
        recoveries.setdefault(recovery.payment_id, []).append(recovery)
    return [{"payment": payment, "recoveries": recoveries.get(payment.pk, [])} for payment in payments]


@dataclass(frozen=True)
class WorkRow:
    recipient_id: int
    iin: str
    full_name: str
    payment_type: str
    status: str
    status_label: str
    last_paid: date | None = None
    months_unpaid: int = 0
    why: str = ""
    death_date: date | None = None
    paid_after_death: Decimal = Decimal("0.00")
    proposed: bool = False


def _reference_month() -> date:
    """The month the work lists count to: the latest released run's, or the current month."""
    latest = (
        PaymentRun.objects.filter(state=RunState.RELEASED).order_by("-month").values_list("month", flat=True).first()
    )
    return latest or timezone.localdate().replace(day=1)


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def _in_payment(payment_type: str = "", status: str = "") -> QuerySet[Recipient]:
    recipients = Recipient.objects.filter(status__in=(RecipientStatus.IN_FORCE, RecipientStatus.SUSPENDED))
    if payment_type:
        recipients = recipients.filter(payment_type=payment_type)
    if status:
        recipients = recipients.filter(status=status)
    return recipients.select_related("participant")


def _months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _row(recipient: Recipient, **extra: Any) -> WorkRow:
    participant = recipient.participant
    return WorkRow(
        recipient.pk,
        participant.iin,
        participant.full_name,
        recipient.payment_type,
        recipient.status,
        recipient.get_status_display(),
        **extra,
    )


def _unpaid(payment_type: str, status: str, month: date) -> QuerySet[Recipient]:
    """Recipients in payment whose last payment sent is three months or more before ``month``
    (or, never paid, whose first month due is): decided in SQL, so a count reads no rows."""
    sent = Payment.objects.filter(
        recipient=OuterRef("pk"), run__state=RunState.RELEASED, payment_list__isnull=False, payment_return__isnull=True
    ).order_by("-month")
    return (
        _in_payment(payment_type, status)
        .annotate(last_paid=Subquery(sent.values("month")[:1]))
        .filter(
            Q(last_paid__lte=_months_before(month, 3))
            | Q(last_paid__isnull=True, risk_date__lt=_months_before(month, 1))
        )
    )


def _reported_dead(payment_type: str, status: str) -> QuerySet[Recipient]:
    return _in_payment(payment_type, status).filter(participant__death_date__isnull=False)


# A work list shows and exports at most this many rows, and says so when there are more (the
# filters narrow it).
WORK_LIST_LIMIT = 5000


def unpaid_recipients(*, payment_type: str = "", status: str = "", limit: int = WORK_LIST_LIMIT) -> list[WorkRow]:
    """The standard's work list: recipients with a decision in force who have not received a
    payment for three months or more (counted to the latest released run), with why: the last
    payment held back (and the reason), returned by the bank (and the reason), or the payment
    suspended."""
    month = _reference_month()
    latest = Payment.objects.filter(recipient=OuterRef("pk"), run__state=RunState.RELEASED).order_by("-month", "-id")
    candidates = (
        _unpaid(payment_type, status, month)
        .annotate(
            last_held=Subquery(latest.values("held_reason")[:1]),
            last_return=Subquery(latest.values("payment_return__reason")[:1]),
        )
        .order_by("risk_date", "pk")[:limit]
    )
    rows: list[WorkRow] = []
    for recipient in candidates:
        last_paid: date | None = getattr(recipient, "last_paid")  # noqa: B009 - annotated by _unpaid
        first_due = recipient.risk_date.replace(day=1)
        unpaid = _months_between(last_paid, month) if last_paid else _months_between(first_due, month) + 1
        if recipient.status == RecipientStatus.SUSPENDED:
            why = str(RecipientStatus.SUSPENDED.label)
        elif recipient.last_held:
            why = f"{_('Held back')}: {HeldReason(recipient.last_held).label}"
        elif recipient.last_return:
            why = f"{_('Returned by the bank')}: {recipient.last_return}"
        else:
            why = str(_("No payment was built"))
        rows.append(_row(recipient, last_paid=last_paid, months_unpaid=unpaid, why=why))
    return rows


def reported_dead(*, payment_type: str = "", status: str = "", limit: int = WORK_LIST_LIMIT) -> list[WorkRow]:
    """The standard's work list: recipients whom the state registry reports dead while a
    decision is in force, with what was paid for the months after the month of death (recorded
    for recovery) and whether a termination is proposed."""
    after_death = (
        Payment.objects.filter(
            recipient=OuterRef("pk"),
            run__state=RunState.RELEASED,
            payment_list__isnull=False,
            month__gt=OuterRef("participant__death_date"),
        )
        .values("recipient")
        .annotate(total=Sum("net"))
        .values("total")
    )
    proposals = DecisionProposal.objects.filter(recipient=OuterRef("pk"), kind="terminate")
    candidates = (
        _reported_dead(payment_type, status)
        .annotate(paid_after=Subquery(after_death[:1]), proposed=Exists(proposals))
        .order_by("participant__death_date", "pk")[:limit]
    )
    return [
        _row(
            recipient,
            death_date=recipient.participant.death_date,
            paid_after_death=recipient.paid_after or Decimal("0.00"),
            proposed=recipient.proposed,
        )
        for recipient in candidates
    ]


def work_list_counts() -> dict[str, int]:
    """The counts on the heads' home page: two COUNT queries, no rows read."""
    return {
        "unpaid": _unpaid("", "", _reference_month()).count(),
        "reported_dead": _reported_dead("", "").count(),
    }
