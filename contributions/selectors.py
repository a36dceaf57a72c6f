"""Reads of payment orders, personal accounts and return documents."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from contributions.models import (
    FINAL_STATUSES,
    DeadlineState,
    EntryKind,
    LedgerEntry,
    LineStatus,
    OrderLine,
    OrderStatus,
    PaymentOrder,
    ReturnDocument,
)
from contributions.problems import word
from records.models import Participant
from records.paging import Key, capped_counts


def money(value: Decimal | None) -> str:
    """Two decimals, dot separator (the ingest/API JSON format)."""
    return f"{(value or Decimal('0')):.2f}"


def return_reasons(order: PaymentOrder) -> dict[str, int]:
    rows = (
        OrderLine.objects.filter(order=order, status=LineStatus.RETURNED)
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by("reason")
    )
    return dict(rows)


def returned_iins(document: ReturnDocument) -> list[str]:
    """The people a return document names: the payer and the IINs of its returned lines."""
    lines = OrderLine.objects.filter(order_id=document.order_id, status=LineStatus.RETURNED)
    return [document.order.payer_idn, *lines.values_list("iin", flat=True)]


def order_summary(order: PaymentOrder) -> dict[str, Any]:
    """The JSON object of an order (``manage.py ingest --json`` and the API)."""
    amount = order.total if order.total is not None else order.amount_lines
    return {
        "id": order.pk,
        "reference": order.reference,
        "number": order.number,
        "document_date": order.document_date.isoformat() if order.document_date else None,
        "payer": order.payer_idn,
        "knp": order.knp,
        "received": order.received.isoformat(),
        # The end of the working day to the second (conventions: 23:59:59 Asia/Almaty).
        "deadline": timezone.localtime(order.deadline).replace(microsecond=0).isoformat() if order.deadline else None,
        "status": order.status,
        "lines": order.lines_total,
        "lines_posted": order.lines_posted,
        "lines_returned": order.lines_returned,
        "amount": money(amount),
        "amount_posted": money(order.amount_posted),
        "amount_returned": money(order.amount_returned),
        "return_reasons": return_reasons(order) if order.lines_returned else {},
        # English, the stable wording for programs (pages word them in the reader's language).
        "errors": [word(problem, translate=False) for problem in order.errors],
    }


def open_orders(ids: list[int]) -> QuerySet[PaymentOrder]:
    return PaymentOrder.objects.filter(pk__in=ids).exclude(status__in=FINAL_STATUSES)


def deadline_q(state: DeadlineState | str, now: datetime | None = None) -> Q:
    """Orders by the state of their one-working-day deadline (conventions, "Within one working
    day"). An unknown state raises ``ValueError``: it never means "no filter"."""
    state = DeadlineState(state)
    now = now or timezone.now()
    if state in (DeadlineState.MET, DeadlineState.MISSED):
        finished = Q(finished_at__isnull=False, deadline__isnull=False)
        if state == DeadlineState.MET:
            return finished & Q(finished_at__lte=F("deadline"))
        return finished & Q(finished_at__gt=F("deadline"))
    # Open: waiting for a worker, or for a staff member to resolve it (needs review).
    open_ = Q(status__in=(OrderStatus.RECEIVED, OrderStatus.NEEDS_REVIEW))
    if state == DeadlineState.LATE:
        return open_ & Q(deadline__lt=now)
    today_end = datetime.combine(timezone.localdate(now), time.max, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return open_ & Q(deadline__gte=now, deadline__lte=today_end)


def account_entries(participant: Participant) -> QuerySet[LedgerEntry]:
    """A participant's entries with the reference of their order (not the whole order row)."""
    return (
        participant.entries.select_related("order")
        .only(*ENTRY_COLUMNS, "order__reference")
        .order_by("period", "posted_at", "id")
    )


# What the personal account shows of an entry.
ENTRY_COLUMNS = ("participant", "period", "kind", "amount", "payer_idn", "order", "received", "posted_at")


def account_totals(participant: Participant) -> dict[str, Decimal]:
    """The sum of each kind of entry: read from the index alone (it includes kind and amount)."""
    totals = {kind: Decimal("0.00") for kind in EntryKind.values}
    for kind, total in participant.entries.values_list("kind").annotate(total=Sum("amount")):
        totals[kind] = total
    return totals


def net_contributions(participant_ids: list[int], *, before: date | None = None) -> dict[int, dict[date, Decimal]]:
    """Each participant's net contributions by month (its first day), before ``before`` if given:
    the contributions of all payers less the refunds that correct a contribution; penalties never
    count (conventions: "The personal account", "Benefit amounts"). Two grouped reads, whatever
    the number of participants: the first from ``entry_account_idx`` alone, the second of the few
    refunds. The monthly chart and the benefit amounts both read it."""
    entries = LedgerEntry.objects.filter(participant_id__in=participant_ids)
    if before is not None:
        entries = entries.filter(period__lt=before)
    contributions = entries.filter(kind=EntryKind.CONTRIBUTION)
    refunds = entries.filter(kind=EntryKind.REFUND, corrects__kind=EntryKind.CONTRIBUTION)
    totals: dict[int, dict[date, Decimal]] = {pk: {} for pk in participant_ids}
    for part in (contributions, refunds):
        rows = part.annotate(month=TruncMonth("period")).values_list("participant_id", "month")
        for participant_id, month, total in rows.annotate(total=Sum("amount")).order_by():
            months = totals[participant_id]
            months[month] = months.get(month, Decimal("0")) + total
    return totals


def monthly_contributions(participant: Participant, months: int = 36) -> list[tuple[str, str]]:
    """(YYYY-MM, amount) of net contributions (refunds deducted) for every month from the first
    period with contributions to the last, at most the last ``months`` of them, oldest first: the
    chart on the participant page. Months without contributions are shown as zero, as the
    benefit formulas count them (conventions: "Recipients and decisions")."""
    by_month = net_contributions([participant.pk])[participant.pk]
    totals = {(month.year, month.month): total for month, total in by_month.items()}
    if not totals:
        return []
    first, last = min(totals), max(totals)
    series: list[tuple[str, str]] = []
    year, month = last
    while (year, month) >= first and len(series) < months:
        series.append((f"{year:04d}-{month:02d}", money(totals.get((year, month), Decimal("0")))))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return series[::-1]


def status_counts(orders: QuerySet[PaymentOrder]) -> dict[str, int]:
    """Orders of each status, each counted up to ``records.paging.COUNT_LIMIT`` (one more
    means "more than"), by the database, from the index on (status, created_at, id)."""
    return capped_counts(orders, "status", OrderStatus.values)


# The orderings of the long lists, each held by an index (records.paging: keyset pages).
ORDER_KEYS = (Key.field("created_at", datetime), Key.field("id", int))
RETURN_DOCUMENT_KEYS = ORDER_KEYS
REFUND_KEYS = (Key.field("registered_at", datetime), Key.field("id", int))
ENTRY_KEYS = (Key.field("period", date), Key.field("posted_at", datetime), Key.field("id", int))

# What no order list shows and may be large: the errors, the resolution note.
ORDER_LIST_DEFERRED = ("errors", "resolution_note")
