"""The figures of the monthly report to the authorized body (Rules, paragraph 5) and of the heads'
dashboards, computed in the database (a month at national scale is millions of ledger rows).

Both halves of the record for one month:

- contributions: the payment orders received in the month (by their receipt date), the entries
  posted from them by kind, the participants they credited, the lines returned (by reason) and
  each payer's share; the refunds posted in the month;
- recipients: who was paid by the month's run (by payment type), the decisions approved in the
  month (by payment type and kind);
- payments: the month's run as released (count, gross, pension contributions withheld (paragraph
  12 item 24), net, by payment type), what the banks returned and what is to be recovered (item
  25).

**Reconciled** (``reconciliation``): the entries posted from the month's processed orders equal
those orders' amounts minus what was returned; the payments of each released list equal the
list's total minus the bank's returns. Each check gives both sides and, where they differ, every
order or list that differs.

Amounts are strings with two decimals, so that the figures keep their exact value in JSON and
their checksum is that of a canonical text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from contributions.models import EntryKind, LedgerEntry, LineStatus, OrderLine, OrderStatus, PaymentOrder
from payments.models import (
    Decision,
    DecisionState,
    MonthlyReport,
    Payment,
    PaymentList,
    PaymentReturn,
    PaymentRun,
    Recovery,
    RunState,
)

PROCESSED = (OrderStatus.POSTED, OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED)
POSTED_KINDS = (EntryKind.CONTRIBUTION, EntryKind.PENALTY)
ZERO = Decimal("0.00")
_MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=20, decimal_places=2)


def amount(value: Decimal | None) -> str:
    return f"{(value or ZERO):.2f}"


def _sum(field: str, **filters: Any) -> Any:
    return Coalesce(Sum(field, filter=Q(**filters) if filters else None), Value(ZERO), output_field=_MONEY)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month as local (Asia/Almaty) time: from its first midnight to the next month's."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (
        timezone.make_aware(datetime.combine(month, time.min)),
        timezone.make_aware(datetime.combine(following, time.min)),
    )


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


# --- Contributions ------------------------------------------------------------------------------


def orders_of(month: date) -> QuerySet[PaymentOrder]:
    """The originals received in the month (a duplicate is the same money sent twice)."""
    return PaymentOrder.objects.filter(received__gte=month, received__lt=next_month(month), is_original=True)


def _contributions(month: date, *, payers: bool) -> dict[str, Any]:
    orders = orders_of(month)
    processed = orders.filter(status__in=PROCESSED)
    by_status = dict(orders.order_by().values_list("status").annotate(n=Count("id")))
    entries = LedgerEntry.objects.filter(order__in=processed, kind__in=POSTED_KINDS)
    by_kind = {
        kind: {"count": row["count"], "sum": amount(row["total"])}
        for kind, row in (
            (row["kind"], row)
            for row in entries.order_by().values("kind").annotate(count=Count("id"), total=Sum("amount"))
        )
    }
    for kind in POSTED_KINDS:
        by_kind.setdefault(str(kind), {"count": 0, "sum": amount(None)})
    returned = OrderLine.objects.filter(order__in=processed, status=LineStatus.RETURNED)
    by_reason = {
        row["reason"]: {"count": row["count"], "sum": amount(row["total"])}
        for row in returned.order_by().values("reason").annotate(count=Count("id"), total=Sum("amount"))
    }
    returned_total = returned.aggregate(count=Count("id"), total=_sum("amount"))
    start, end = month_bounds(month)
    refunds = LedgerEntry.objects.filter(kind=EntryKind.REFUND, posted_at__gte=start, posted_at__lt=end).aggregate(
        count=Count("id"), total=_sum("amount")
    )
    figures: dict[str, Any] = {
        "orders": {
            "received": orders.count(),
            "processed": processed.count(),
            "by_status": {str(status): by_status.get(str(status), 0) for status in OrderStatus},
        },
        "participants": entries.values("participant_id").distinct().count(),
        "by_kind": by_kind,
        "returned": {
            "lines": returned_total["count"],
            "sum": amount(returned_total["total"]),
            "by_reason": by_reason,
        },
        "refunds": {"count": refunds["count"], "sum": amount(-refunds["total"])},
    }
    if payers:
        figures["payers"] = _payers(processed)
    return figures


_PAYERS_SQL = """
    WITH month_orders AS MATERIALIZED ({orders}),
    posted AS (
        SELECT e.order_id,
               sum(e.amount) FILTER (WHERE e.kind = %s) AS contributions,
               sum(e.amount) FILTER (WHERE e.kind = %s) AS penalties
        FROM {entries} AS e JOIN month_orders AS o ON o.id = e.order_id
        GROUP BY e.order_id
    ), returned AS (
        SELECT l.order_id, count(*) AS lines, sum(l.amount) AS total
        FROM {lines} AS l JOIN month_orders AS o ON o.id = l.order_id
        WHERE l.status = %s
        GROUP BY l.order_id
    )
    SELECT o.payer_idn, max(o.payer_name), count(*),
           coalesce(sum(p.contributions), 0), coalesce(sum(p.penalties), 0),
           coalesce(sum(r.lines), 0)::bigint, coalesce(sum(r.total), 0)
    FROM month_orders AS o
    LEFT JOIN posted AS p ON p.order_id = o.id
    LEFT JOIN returned AS r ON r.order_id = o.id
    GROUP BY o.payer_idn
    ORDER BY o.payer_idn
"""


def _payers(processed: QuerySet[PaymentOrder]) -> list[dict[str, Any]]:
    """Each payer's share of the month, by IIN/BIN: the report's largest part (a few hundred
    thousand payers at national scale), which the dashboard does without. One statement: the
    entries and the returned lines are summed per order first, then per payer (joined directly,
    each order would be counted once per entry, and the entries once per returned line)."""
    orders, params = processed.order_by().values("id", "payer_idn", "payer_name").query.sql_with_params()
    statement = _PAYERS_SQL.format(orders=orders, entries=LedgerEntry._meta.db_table, lines=OrderLine._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, EntryKind.CONTRIBUTION, EntryKind.PENALTY, LineStatus.RETURNED])
        return [
            {
                "idn": idn,
                "name": name or "",
                "orders": orders_count,
                "contributions": amount(contributions),
                "penalties": amount(penalties),
                "returned_lines": lines,
                "returned": amount(returned),
            }
            for idn, name, orders_count, contributions, penalties, lines, returned in cursor  # row by row
        ]


def _ledger_check(month: date) -> dict[str, Any]:
    """Posted entries = processed orders - returns, order by order. The sums are taken in the
    database, and only the orders that differ are read (a month is some 500 000 orders)."""
    processed = orders_of(month).filter(status__in=PROCESSED)
    sides = processed.aggregate(
        paid=Coalesce(Sum(Coalesce(F("total"), F("amount_lines"))), Value(ZERO), output_field=_MONEY),
        returned=_sum("amount_returned"),
    )
    posted_total = LedgerEntry.objects.filter(order__in=processed, kind__in=POSTED_KINDS).aggregate(
        total=_sum("amount")
    )["total"]
    paid, returned = sides["paid"], sides["returned"]
    differing = (
        processed.annotate(
            paid=Coalesce(F("total"), F("amount_lines"), output_field=_MONEY),
            posted=Coalesce(
                Sum("entries__amount", filter=Q(entries__kind__in=POSTED_KINDS)), Value(ZERO), output_field=_MONEY
            ),
        )
        .annotate(difference=F("posted") - (F("paid") - F("amount_returned")))
        .exclude(difference=0)
        .order_by("id")
        .values("id", "reference", "number", "payer_idn", "paid", "amount_returned", "posted", "difference")
    )
    items = [
        {
            "order": order["id"],
            "reference": order["reference"] or order["number"],
            "payer": order["payer_idn"],
            "paid": amount(order["paid"]),
            "returned": amount(order["amount_returned"]),
            "posted": amount(order["posted"]),
            "difference": amount(order["difference"]),
        }
        for order in differing
    ]
    return {
        "check": "ledger",
        "processed": amount(paid),
        "returned": amount(returned),
        "expected": amount(paid - returned),
        "actual": amount(posted_total),
        "difference": amount(posted_total - (paid - returned)),
        "ok": not items,
        "items": items,
    }


# --- Recipients and payments -------------------------------------------------------------------


def _run_of(month: date) -> PaymentRun | None:
    return PaymentRun.objects.filter(month=month).first()


def _paid(run: PaymentRun | None) -> QuerySet[Payment]:
    """The payments the month's run released to the banks (held back ones are on no list)."""
    if run is None or run.state != RunState.RELEASED:
        return Payment.objects.none()
    return Payment.objects.filter(run=run, payment_list__isnull=False)


def _recipients(month: date, run: PaymentRun | None) -> dict[str, Any]:
    paid_by_type = dict(
        _paid(run).order_by().values_list("recipient__payment_type").annotate(n=Count("recipient_id", distinct=True))
    )
    start, end = month_bounds(month)
    decisions = [
        {"type": row["recipient__payment_type"], "kind": row["kind"], "count": row["count"]}
        for row in Decision.objects.filter(state=DecisionState.APPROVED, approved_at__gte=start, approved_at__lt=end)
        .order_by("recipient__payment_type", "kind")
        .values("recipient__payment_type", "kind")
        .annotate(count=Count("id"))
    ]
    return {"paid_by_type": paid_by_type, "decisions": decisions}


def _totals(payments: QuerySet[Payment]) -> dict[str, Any]:
    row = payments.aggregate(count=Count("id"), gross=_sum("gross"), withheld=_sum("withheld"), net=_sum("net"))
    return {
        "count": row["count"],
        "gross": amount(row["gross"]),
        "withheld": amount(row["withheld"]),
        "net": amount(row["net"]),
    }


def _payments(run: PaymentRun | None) -> dict[str, Any]:
    paid = _paid(run)
    by_type = {
        row["recipient__payment_type"]: {
            "count": row["count"],
            "gross": amount(row["gross"]),
            "withheld": amount(row["withheld"]),
            "net": amount(row["net"]),
        }
        for row in paid.order_by("recipient__payment_type")
        .values("recipient__payment_type")
        .annotate(count=Count("id"), gross=Sum("gross"), withheld=Sum("withheld"), net=Sum("net"))
    }
    returns = PaymentReturn.objects.filter(payment__in=paid).aggregate(count=Count("id"), total=_sum("payment__net"))
    recoveries = Recovery.objects.filter(run=run) if run is not None else Recovery.objects.none()
    by_reason = {
        row["reason"]: {"count": row["count"], "sum": amount(row["total"])}
        for row in recoveries.order_by("reason").values("reason").annotate(count=Count("id"), total=Sum("amount"))
    }
    recovered = recoveries.aggregate(count=Count("id"), total=_sum("amount"))
    made = _totals(paid)
    return {
        "run": None if run is None else {"state": run.state, "released": run.state == RunState.RELEASED},
        "made": made,
        "by_type": by_type,
        "returned": {"count": returns["count"], "sum": amount(returns["total"])},
        "recovered": {"count": recovered["count"], "sum": amount(recovered["total"]), "by_reason": by_reason},
        "withheld": made["withheld"],
    }


def _payments_check(run: PaymentRun | None) -> dict[str, Any]:
    """The payments credited = each released list's total - the bank's returns, list by list."""
    lists: QuerySet[PaymentList] = (
        run.lists.select_related("bank").order_by("number")
        if run is not None and run.state == RunState.RELEASED
        else PaymentList.objects.none()
    )
    returned_payment = PaymentReturn.objects.filter(payment=OuterRef("pk"))
    items, listed, returned, credited = [], ZERO, ZERO, ZERO
    for payment_list in lists:
        payments = Payment.objects.filter(payment_list=payment_list).annotate(was_returned=Exists(returned_payment))
        row = payments.aggregate(returned=_sum("net", was_returned=True), credited=_sum("net", was_returned=False))
        listed += payment_list.net
        returned += row["returned"]
        credited += row["credited"]
        difference = row["credited"] - (payment_list.net - row["returned"])
        if difference:
            items.append(
                {
                    "list": payment_list.number,
                    "bank": payment_list.bank_id,
                    "listed": amount(payment_list.net),
                    "returned": amount(row["returned"]),
                    "credited": amount(row["credited"]),
                    "difference": amount(difference),
                }
            )
    return {
        "check": "payments",
        "listed": amount(listed),
        "returned": amount(returned),
        "expected": amount(listed - returned),
        "actual": amount(credited),
        "difference": amount(credited - (listed - returned)),
        "ok": not items,
        "items": items,
    }


# --- The report ---------------------------------------------------------------------------------


def report_figures(month: date, *, payers: bool = True) -> dict[str, Any]:
    """Every figure of the month's report, with its reconciliation (see the module's docstring);
    without the by-payer list when ``payers`` is false (the dashboard). Called outside a
    transaction, every figure is read from one snapshot (``REPEATABLE READ``): an order posted
    while the report is computed (a minute at national scale) is in all of its figures or in
    none, and cannot make the reconciliation differ."""
    with transaction.atomic():
        if not connection.savepoint_ids:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        run = _run_of(month)
        return {
            "month": f"{month:%Y-%m}",
            "contributions": _contributions(month, payers=payers),
            "recipients": _recipients(month, run),
            "payments": _payments(run),
            "reconciliation": [_ledger_check(month), _payments_check(run)],
        }


def canonical(figures: dict[str, Any]) -> bytes:
    return json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def figures_sha256(figures: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(figures)).hexdigest()


def is_reconciled(figures: dict[str, Any]) -> bool:
    return all(check["ok"] for check in figures["reconciliation"])


# --- A stored version on screen -----------------------------------------------------------------

PAYERS_PER_PAGE = 100


@dataclass(frozen=True)
class ReportOnScreen:
    """A stored version for its page: every figure but the by-payer list, of which one page
    (``payers``, from the ``first``-th, 1-based) of ``payers_total``. The page reads that slice
    of the stored JSON in SQL: at national scale the list is a few hundred thousand payers,
    tens of megabytes that neither Python nor the browser should take in for one page; the
    files hold all of them."""

    report: MonthlyReport
    figures: dict[str, Any]
    payers_total: int
    page: int
    pages: int

    @property
    def first(self) -> int:
        return (self.page - 1) * PAYERS_PER_PAGE + 1 if self.payers_total else 0

    @property
    def last(self) -> int:
        return min(self.page * PAYERS_PER_PAGE, self.payers_total)


def report_on_screen(pk: int, *, page: int) -> ReportOnScreen | None:
    """The version ``pk`` with page ``page`` of its payers (a page past the last shows the last)."""
    found = (
        MonthlyReport.objects.select_related("generated_by", "signed_by")
        .defer("figures")
        .annotate(
            shown=Func(
                F("figures"), template="(%(expressions)s #- '{contributions,payers}')", output_field=JSONField()
            ),
            payers_total=Func(
                F("figures"),
                template="coalesce(jsonb_array_length(%(expressions)s -> 'contributions' -> 'payers'), 0)",
                output_field=IntegerField(),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        return None
    total: int = found.payers_total
    pages = max(1, -(-total // PAYERS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAYERS_PER_PAGE
    path = f"$.contributions.payers[{start} to {start + PAYERS_PER_PAGE - 1}]"
    rows = (
        MonthlyReport.objects.filter(pk=pk)
        .annotate(
            rows=Func(
                F("figures"),
                Value(path),
                function="jsonb_path_query_array",
                template="%(function)s(%(expressions)s::jsonpath)",
                output_field=JSONField(),
            )
        )
        .values_list("rows", flat=True)
        .first()
    )
    figures: dict[str, Any] = found.shown
    figures["contributions"]["payers"] = rows or []
    return ReportOnScreen(report=found, figures=figures, payers_total=total, page=page, pages=pages)
