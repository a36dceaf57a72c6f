"""The heads' dashboard for a month (issue 19): the intake of payment orders day by day and the
share processed within one working day (conventions: "Within one working day"), returns by
reason, applications and decisions by type and state, the decisions waiting and their age, and
the payments by type over the last twelve months.

The month's figures are the monthly report's (``payments.selectors.reports``): the same
querysets, so that a dashboard never says other than the report of the same month; the
dashboard only cuts them finer (by day) or adds what a report does not hold (the current state
of applications and decisions, the age of what waits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from payments.models import Decision, DecisionState, Payment, Recipient, RunState
from payments.selectors.reports import PROCESSED, amount, next_month, orders_of, report_figures

WAITING = (DecisionState.SUBMITTED, DecisionState.VERIFIED)
AGE_BUCKETS = ((0, 1), (2, 5), (6, 10), (11, None))  # days since the decision was submitted


@dataclass(frozen=True)
class Dashboard:
    month: date
    figures: dict[str, Any]  # the report's figures of the month
    days: list[dict[str, Any]]  # per day of receipt: received, processed, processed in time
    in_time: dict[str, Any]
    applications: list[dict[str, Any]]  # payment type x status (now)
    decisions: list[dict[str, Any]]  # payment type x state (now)
    waiting: list[dict[str, Any]]  # age buckets of the decisions waiting
    payments_by_month: list[dict[str, Any]]  # the last twelve months' released payments by type
    computed_at: datetime  # when these figures were read (a dashboard may be kept a few minutes)


def _days(month: date) -> list[dict[str, Any]]:
    rows = (
        orders_of(month)
        .order_by("received")
        .values("received")
        .annotate(
            received_count=Count("id"),
            processed=Count("id", filter=Q(status__in=PROCESSED)),
            in_time=Count("id", filter=Q(status__in=PROCESSED, finished_at__lte=F("deadline"))),
        )
    )
    return [
        {
            "day": row["received"],
            "received": row["received_count"],
            "processed": row["processed"],
            "in_time": row["in_time"],
        }
        for row in rows
    ]


def _share(days: list[dict[str, Any]]) -> dict[str, Any]:
    processed = sum(day["processed"] for day in days)
    in_time = sum(day["in_time"] for day in days)
    percent = (Decimal(100) * in_time / processed).quantize(Decimal("0.1")) if processed else None
    return {"processed": processed, "in_time": in_time, "late": processed - in_time, "percent": percent}


def _months_back(month: date, count: int) -> list[date]:
    out = [month]
    while len(out) < count:
        first = out[-1]
        out.append(date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1))
    return list(reversed(out))


def _payments_by_month(month: date) -> list[dict[str, Any]]:
    months = _months_back(month, 12)
    rows = (
        Payment.objects.filter(
            run__month__gte=months[0],
            run__month__lt=next_month(month),
            run__state=RunState.RELEASED,
            payment_list__isnull=False,
        )
        .order_by()
        .values("run__month", "recipient__payment_type")
        .annotate(net=Sum("net"), count=Count("id"))
    )
    found = {(row["run__month"], row["recipient__payment_type"]): row for row in rows}
    types = sorted({kind for _month, kind in found})
    return [
        {
            "month": first,
            "by_type": {
                kind: {"count": found[(first, kind)]["count"], "net": amount(found[(first, kind)]["net"])}
                for kind in types
                if (first, kind) in found
            },
        }
        for first in months
    ]


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _waiting() -> list[dict[str, Any]]:
    """How many decisions wait for verification or approval, by days since they were submitted
    (local days), counted in the database."""
    today = timezone.localdate()
    buckets = {}
    for low, high in AGE_BUCKETS:
        condition = Q(submitted_at__lt=_midnight(today - timedelta(days=low - 1)))
        if high is not None:
            condition &= Q(submitted_at__gte=_midnight(today - timedelta(days=high)))
        buckets[f"{low}"] = Count("id", filter=condition)
    counts = Decision.objects.filter(state__in=WAITING).aggregate(**buckets)
    return [{"from": low, "to": high, "count": counts[f"{low}"]} for low, high in AGE_BUCKETS]


def dashboard(month: date) -> Dashboard:
    days = _days(month)
    applications = [
        {"type": row["payment_type"], "status": row["status"], "count": row["count"]}
        for row in Recipient.objects.order_by("payment_type", "status")
        .values("payment_type", "status")
        .annotate(count=Count("id"))
    ]
    decisions = [
        {"type": row["recipient__payment_type"], "state": row["state"], "count": row["count"]}
        for row in Decision.objects.order_by("recipient__payment_type", "state")
        .values("recipient__payment_type", "state")
        .annotate(count=Count("id"))
    ]
    return Dashboard(
        month=month,
        figures=report_figures(month, payers=False),
        days=days,
        in_time=_share(days),
        applications=applications,
        decisions=decisions,
        waiting=_waiting(),
        payments_by_month=_payments_by_month(month),
        computed_at=timezone.now(),
    )


# --- Kept for a few minutes -----------------------------------------------------------------------
# At national scale a month's figures are some 20 s of reading (docs/performance.md, "The monthly
# report"): too long for a page the heads open many times a day. The dashboard of a month is
# kept in the shared cache for DASHBOARD_REFRESH_SECONDS and the current month's is computed
# again by beat before it expires (``payments.refresh_dashboard``), so a head sees figures at
# most that old and says so on the page ("as of"); the report is always computed afresh.


def _key(month: date) -> str:
    return f"payments:dashboard:{month:%Y-%m}"


def refresh_dashboard(month: date) -> Dashboard:
    """Compute the month's dashboard and keep it (beat, and the first view of a month)."""
    board = dashboard(month)
    cache.set(_key(month), board, settings.DASHBOARD_REFRESH_SECONDS)
    return board


def kept_dashboard(month: date) -> Dashboard:
    """The month's dashboard as kept, computed now if it is not (or no longer) kept."""
    board = cache.get(_key(month))
    return board if isinstance(board, Dashboard) else refresh_dashboard(month)
