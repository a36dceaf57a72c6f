"""Building the monthly payment run (Rules, paragraph 12 items 22-25 and paragraph 13;
conventions: "Monthly payments").

A run for a month pays every recipient with a decision in force one payment, grouped into one
list per bank. The bulk of it (recipients whose payments simply go on) is one set-based SQL
pass; the few whose approved decisions changed what is due for months already paid (an
assignment from a past date, a recalculation, a suspension withdrawn in time, a termination),
or who have a payment to be paid again (returned, or held back for want of an account), are
settled month by month in Python with ``payments.due``, the same arithmetic the SQL does.

All or nothing: the build is one transaction; a second start for the same month builds nothing
twice (the month is unique, and an advisory lock keeps two builders apart); a worker killed in
the middle leaves the run "being built" with nothing in it, and the next start builds it anew.
Progress is written by a connection of its own, so the run's page shows it while it runs.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contributions.services.common import DomainError
from payments.benefits import NoAmount, parameter_in_force, round_money
from payments.due import (
    Entitlement,
    IndexStep,
    MonthDue,
    Suspension,
    due_for,
    due_through,
    month_end,
)
from payments.models import (
    BankAccount,
    Decision,
    DecisionKind,
    DecisionState,
    EndReason,
    HeldReason,
    ItemKind,
    LegalParameter,
    ParameterName,
    Payment,
    PaymentItem,
    PaymentRun,
    PaymentType,
    Recipient,
    RecipientStatus,
    Recovery,
    RecoveryReason,
    RunState,
)
from records.approval import take_step
from records.services import Actor, audit_record, with_history_context

logger = logging.getLogger(__name__)

PAID_STATUSES = (RecipientStatus.IN_FORCE, RecipientStatus.SUSPENDED, RecipientStatus.TERMINATED)
INDEXED_TYPES = {
    PaymentType.BREADWINNER: ParameterName.INDEXATION_0701,
    PaymentType.DISABILITY: ParameterName.INDEXATION_0702,
}
WITHHOLDING = {
    PaymentType.BREADWINNER: ParameterName.WITHHOLDING_0701,
    PaymentType.DISABILITY: ParameterName.WITHHOLDING_0702,
    PaymentType.JOB_LOSS: ParameterName.WITHHOLDING_0703,
    PaymentType.MATERNITY: ParameterName.WITHHOLDING_0704,
    PaymentType.CHILD_CARE: ParameterName.WITHHOLDING_0705,
}
# Two keys of pg_advisory_xact_lock: this one and the run's id.
_LOCK_CLASS = 7013
_MONTH_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}")  # YYYY-MM in ASCII digits (int() reads any script's)


class RunBusy(DomainError):
    """Another worker is building this run right now."""


# --- Parameters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunParameters:
    """The parameters of a month's run: the withholding rate in force on the first day of the
    month for each type, and the indexation steps on or before it."""

    month: date
    rates: dict[str, Decimal]
    index_steps: dict[str, tuple[IndexStep, ...]]
    used: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_month(cls, month: date) -> RunParameters:
        rates: dict[str, Decimal] = {}
        used: dict[str, Any] = {"withholding": {}, "indexation": {}}
        for payment_type, name in WITHHOLDING.items():
            try:
                row = parameter_in_force(name, month)
            except NoAmount as exc:
                raise DomainError(str(exc)) from exc
            rates[payment_type] = row.value
            used["withholding"][payment_type] = {"value": f"{row.value.normalize():f}", "id": row.row_id}
        steps: dict[str, tuple[IndexStep, ...]] = {}
        for payment_type, name in INDEXED_TYPES.items():
            rows = LegalParameter.objects.filter(name=name, valid_from__lte=month).order_by("valid_from")
            steps[payment_type] = tuple(IndexStep(row.valid_from, row.value) for row in rows)
            used["indexation"][payment_type] = [
                {"from": row.valid_from.isoformat(), "percent": f"{row.value.normalize():f}", "id": row.pk}
                for row in rows
            ]
        return cls(month=month, rates=rates, index_steps=steps, used=used)

    def index_table(self) -> list[tuple[str, date, date, Decimal]]:
        """``(type, risk from, risk until, factor)``: the factor of the steps after a risk date
        in ``[from, until)`` (the SQL pass joins on it instead of multiplying per row)."""
        rows: list[tuple[str, date, date, Decimal]] = []
        for payment_type, steps in self.index_steps.items():
            bounds = [date.min, *(step.valid_from for step in steps), date.max]
            for i in range(len(bounds) - 1):
                factor = Decimal(1)
                for step in steps[i:]:
                    factor *= 1 + step.percent / 100
                rows.append((payment_type, bounds[i], bounds[i + 1], factor))
        return rows


def withheld(gross: Decimal, rate: Decimal) -> Decimal:
    """Compulsory pension contributions withheld from a payment (item 24): rate × gross,
    rounded half-up."""
    return round_money(gross * rate)


# --- Per-recipient settlement ---------------------------------------------------------------


def entitlement_of(recipient: Recipient, index_steps: tuple[IndexStep, ...] = ()) -> Entitlement | None:
    """The recipient's entitlement from the approved decisions (none before an assignment)."""
    if recipient.status not in PAID_STATUSES or recipient.amount is None:
        return None
    approved = list(recipient.decisions.filter(state=DecisionState.APPROVED).order_by("approved_at", "id"))
    suspensions = []
    for suspension in (d for d in approved if d.kind == DecisionKind.SUSPEND):
        resumption = next(
            (d for d in approved if d.kind == DecisionKind.RESUME and d.suspension_id == suspension.pk), None
        )
        if resumption is not None and resumption.withdrawn_in_time:
            continue  # cleared by its deadline: the months are due
        suspensions.append(Suspension(suspension.effective_date, resumption.effective_date if resumption else None))
    return Entitlement(
        amount=recipient.amount,
        start=recipient.risk_date,
        end=recipient.end_date,
        lump_sum=recipient.payment_type == PaymentType.MATERNITY,
        suspensions=tuple(suspensions),
        index_steps=index_steps,
    )


def paid_by_month(recipient_id: int) -> dict[date, Decimal]:
    """What the released runs paid the recipient for each month (the month's amounts, arrears
    and lump sums; not what a held-back payment of a recipient reported dead never paid), less
    what was already recorded for recovery."""
    paid: dict[date, Decimal] = defaultdict(Decimal)
    released = Payment.objects.filter(recipient_id=recipient_id, run__state=RunState.RELEASED).exclude(
        held_reason=HeldReason.REPORTED_DEAD
    )
    for month, monthly in released.values_list("month", "monthly"):
        paid[month] += monthly
    items = PaymentItem.objects.filter(
        payment__in=released, kind__in=(ItemKind.ARREARS, ItemKind.LUMP_SUM)
    ).values_list("for_month", "gross")
    for month, gross in items:
        paid[month] += gross
    for month, amount in Recovery.objects.filter(recipient_id=recipient_id).values_list("for_month", "amount"):
        paid[month] -= amount
    return paid


@dataclass
class Settlement:
    """One recipient's part of a run computed in Python."""

    recipient_id: int
    current: MonthDue
    items: list[dict[str, Any]] = field(default_factory=list)
    recoveries: list[dict[str, Any]] = field(default_factory=list)


def _recovery_reason(entitlement: Entitlement, due: MonthDue, death: bool) -> str:
    if due.suspended:
        return RecoveryReason.SUSPENDED
    if entitlement.end is not None and month_end(due.month) > entitlement.end:
        return RecoveryReason.DEATH if death else RecoveryReason.END_OF_RIGHT
    return RecoveryReason.RECALCULATED


def _payment_for_month(recipient_id: int, month: date) -> int:
    """The latest released payment that paid the recipient for ``month`` (a recovery points
    to it)."""
    payment = (
        Payment.objects.filter(recipient_id=recipient_id, run__state=RunState.RELEASED)
        .exclude(held_reason=HeldReason.REPORTED_DEAD)
        .filter(
            Q(month=month, monthly__gt=0)
            | Q(items__for_month=month, items__kind__in=(ItemKind.ARREARS, ItemKind.LUMP_SUM))
        )
        .order_by("-run__month", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if payment is None:  # pragma: no cover - paid_by_month found the money somewhere
        raise DomainError(_("No payment paid month %(month)s.") % {"month": f"{month:%m.%Y}"})
    return payment


def settle(recipient: Recipient, parameters: RunParameters) -> Settlement | None:
    """Every month from the start to the run's month: what is due less what was paid. A
    positive difference for an earlier month is paid as arrears (or as the lump sum), a
    negative one is recorded for recovery with its reason; the run's own month is its monthly
    amount."""
    month = parameters.month
    entitlement = entitlement_of(recipient, parameters.index_steps.get(recipient.payment_type, ()))
    if entitlement is None:
        return None
    last_decision = recipient.decisions.filter(state=DecisionState.APPROVED).order_by("-approved_at", "-id").first()
    terminate = recipient.decisions.filter(state=DecisionState.APPROVED, kind=DecisionKind.TERMINATE).first()
    death = terminate is not None and terminate.end_reason == EndReason.DEATH
    paid = paid_by_month(recipient.pk)
    dues = {due.month: due for due in due_through(entitlement, month)}
    for earlier in paid:
        if earlier not in dues and earlier < month:
            dues[earlier] = due_for(entitlement, earlier)
    current = dues.pop(month, due_for(entitlement, month))
    settlement = Settlement(recipient.pk, current)
    if entitlement.lump_sum and current.amount:
        settlement.items.append({"kind": ItemKind.LUMP_SUM, "for_month": month, "gross": current.amount})
        settlement.current = MonthDue(month, Decimal("0.00"), 0, current.days_in_month)
    for earlier in sorted(dues):
        due = dues[earlier]
        difference = due.amount - paid.get(earlier, Decimal("0"))
        if difference > 0:
            kind = ItemKind.LUMP_SUM if entitlement.lump_sum else ItemKind.ARREARS
            settlement.items.append(
                {"kind": kind, "for_month": earlier, "gross": difference, "decision": last_decision}
            )
        elif difference < 0:
            settlement.recoveries.append(
                {
                    "for_month": earlier,
                    "amount": -difference,
                    "reason": _recovery_reason(entitlement, due, death),
                    "decision": last_decision,
                    "payment_id": _payment_for_month(recipient.pk, earlier),
                }
            )
    return settlement


def repayments(recipient_id: int, month: date) -> list[dict[str, Any]]:
    """Payments to be paid again: held back for want of an account (now there is one), or
    returned by the bank (once the account was corrected after the return)."""
    account = current_account(recipient_id, month)
    if account is None or Recipient.objects.filter(pk=recipient_id, participant__death_date__isnull=False).exists():
        return []  # no account yet, or the registry reports the recipient dead: nothing is paid again
    out: list[dict[str, Any]] = []
    candidates = (
        Payment.objects.filter(recipient_id=recipient_id, run__state=RunState.RELEASED, repaid_by__isnull=True)
        .filter(Q(held_reason=HeldReason.NO_ACCOUNT) | Q(payment_return__isnull=False))
        .select_related("payment_return")
        .order_by("month", "id")
    )
    for payment in candidates:
        returned = getattr(payment, "payment_return", None)
        if returned is not None:
            if account.entered_at <= returned.created_at:
                continue  # the details were not corrected since the bank returned it
            gross, kept = payment.net, Decimal("0.00")  # the contributions were transferred
        else:
            gross, kept = payment.gross, payment.withheld
        if gross > 0:
            out.append(
                {
                    "kind": ItemKind.REPAYMENT,
                    "for_month": payment.month,
                    "gross": gross,
                    "withheld": kept,
                    "repays": payment.pk,
                }
            )
    return out


def current_account(recipient_id: int, month: date) -> BankAccount | None:
    """The account in force on the last day of the month."""
    return (
        BankAccount.objects.filter(recipient_id=recipient_id, valid_from__lte=month_end(month))
        .order_by("-valid_from", "-id")
        .first()
    )


# --- Progress, written beside the build's transaction ----------------------------------------


class Progress:
    """Writes the run's ``progress`` through a connection of its own (autocommit), so that it
    is visible while the build's transaction is still open."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self._connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, stage: str, **counts: int) -> None:
        value = {"stage": stage, "at": timezone.now().isoformat(), **counts}
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE payments_paymentrun SET progress = %s::jsonb WHERE id = %s AND state = 'building'",
                    [_json(value), self.run_id],
                )
        except Exception:  # progress is a convenience: it never fails a build
            logger.warning("run %s: progress not written", self.run_id, exc_info=True)

    def close(self) -> None:
        self._connection.close()


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value)


# --- The build --------------------------------------------------------------------------------

_ACCOUNT_SQL = """
    LEFT JOIN LATERAL (
        SELECT a.bank_id, a.iban FROM payments_bankaccount a
        WHERE a.recipient_id = c.recipient_id AND a.valid_from <= %(month_end)s
        ORDER BY a.valid_from DESC, a.id DESC LIMIT 1
    ) acc ON true
"""


def _build(run: PaymentRun, parameters: RunParameters, progress: Progress) -> None:
    """Fill the run inside the caller's transaction (the run row is not locked: the progress
    connection writes to it)."""
    month, last = parameters.month, month_end(parameters.month)
    args: dict[str, Any] = {"run": run.pk, "month": month, "month_end": last, "days": last.day}
    with connection.cursor() as cursor:
        # Dropped at commit; dropped here too for a build inside an outer transaction (tests).
        cursor.execute("DROP TABLE IF EXISTS _run_calc, _run_items, _run_index, _run_rate, _run_rows, _run_lines")
        cursor.execute(
            "CREATE TEMP TABLE _run_calc (recipient_id bigint PRIMARY KEY, monthly numeric NOT NULL,"
            " days_paid int NOT NULL, other numeric NOT NULL, other_withheld numeric NOT NULL) ON COMMIT DROP"
        )
        cursor.execute(
            "CREATE TEMP TABLE _run_items (recipient_id bigint, kind text, for_month date, gross numeric,"
            " withheld numeric, decision_id bigint, repays_id bigint) ON COMMIT DROP"
        )
        cursor.execute(
            "CREATE TEMP TABLE _run_index (payment_type text, risk_from date, risk_until date, factor numeric)"
            " ON COMMIT DROP"
        )
        cursor.executemany("INSERT INTO _run_index VALUES (%s, %s, %s, %s)", parameters.index_table())
        cursor.execute("CREATE TEMP TABLE _run_rate (payment_type text PRIMARY KEY, rate numeric) ON COMMIT DROP")
        cursor.executemany("INSERT INTO _run_rate VALUES (%s, %s)", list(parameters.rates.items()))

        # Who is settled in Python: an approved decision asked for it, or a payment is to be
        # paid again. Approval clears the requests made up to this moment.
        cursor.execute("SELECT clock_timestamp()")
        parameters.used["settle_cutoff"] = cursor.fetchone()[0].isoformat()
        cursor.execute(
            """
            SELECT id FROM payments_recipient WHERE settle_requested_at <= %(cutoff)s
            UNION
            SELECT p.recipient_id FROM payments_payment p
            JOIN payments_paymentrun r ON r.id = p.run_id AND r.state = 'released'
            LEFT JOIN payments_paymentreturn ret ON ret.payment_id = p.id
            WHERE (p.held_reason = 'no_account' OR ret.id IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM payments_paymentitem i WHERE i.repays_id = p.id)
            """,
            {"cutoff": parameters.used["settle_cutoff"]},
        )
        settled_ids = [row[0] for row in cursor.fetchall()]
        progress("settling", recipients=len(settled_ids))
        recoveries = _settle_in_python(run, parameters, settled_ids, cursor)

        progress("computing")
        # Everyone else whose payment simply goes on: one pass.
        cursor.execute(
            """
            INSERT INTO _run_calc (recipient_id, monthly, days_paid, other, other_withheld)
            SELECT r.id,
                   round(r.amount * coalesce(ix.factor, 1) * d.days_paid / %(days)s, 2),
                   d.days_paid, 0, 0
            FROM payments_recipient r
            CROSS JOIN LATERAL (
                SELECT (least(coalesce(r.end_date, %(month_end)s), %(month_end)s)
                        - greatest(r.risk_date, %(month)s) + 1) AS days_paid
            ) d
            LEFT JOIN _run_index ix
              ON ix.payment_type = r.payment_type AND r.risk_date >= ix.risk_from AND r.risk_date < ix.risk_until
            WHERE r.status IN ('in_force', 'suspended', 'terminated')
              AND r.amount IS NOT NULL
              AND r.payment_type <> '0704'
              AND d.days_paid > 0
              AND (r.suspended_from IS NULL OR r.suspended_from > %(month_end)s)
              AND NOT EXISTS (SELECT 1 FROM _run_calc c WHERE c.recipient_id = r.id)
            """,
            args,
        )
        progress("grouping", computed=cursor.rowcount)
        cursor.execute(
            f"""
            CREATE TEMP TABLE _run_rows ON COMMIT DROP AS
            SELECT c.recipient_id, c.monthly, c.days_paid, c.other,
                   c.monthly + c.other AS gross, w.rate,
                   round(c.monthly * w.rate, 2) + c.other_withheld AS withheld,
                   acc.bank_id, coalesce(acc.iban, '') AS iban, pt.iin,
                   CASE WHEN pt.death_date < %(month)s THEN 'reported_dead'
                        WHEN acc.bank_id IS NULL THEN 'no_account' ELSE '' END AS held_reason
            FROM _run_calc c
            JOIN payments_recipient r ON r.id = c.recipient_id
            JOIN records_participant pt ON pt.id = r.participant_id
            JOIN _run_rate w ON w.payment_type = r.payment_type
            {_ACCOUNT_SQL}
            WHERE c.monthly + c.other > 0
            """,
            args,
        )
        cursor.execute(
            """
            CREATE TEMP TABLE _run_lines ON COMMIT DROP AS
            SELECT recipient_id, row_number() OVER (PARTITION BY bank_id ORDER BY recipient_id) AS line
            FROM _run_rows WHERE held_reason = ''
            """
        )
        cursor.execute(
            """
            INSERT INTO payments_paymentlist (run_id, bank_id, number, count, gross, withheld, net, checksum)
            SELECT %(run)s, x.bank_id,
                   to_char(%(month)s::date, 'YYYYMM') || '-'
                       || lpad((row_number() OVER (ORDER BY x.bank_id))::text, 2, '0'),
                   x.count, x.gross, x.withheld, x.gross - x.withheld, x.checksum
            FROM (
                SELECT o.bank_id, count(*) AS count, sum(o.gross) AS gross, sum(o.withheld) AS withheld,
                       encode(sha256(convert_to(string_agg(
                           l.line || ';' || o.iin || ';' || o.iban || ';' || round(o.gross - o.withheld, 2)::text,
                           E'\\n' ORDER BY l.line), 'UTF8')), 'hex') AS checksum
                FROM _run_rows o JOIN _run_lines l USING (recipient_id)
                GROUP BY o.bank_id
            ) x
            """,
            args,
        )
        progress("writing", lists=cursor.rowcount)
        cursor.execute(
            """
            INSERT INTO payments_payment (run_id, recipient_id, payment_list_id, line, month, monthly, days_paid,
                days_in_month, other, gross, withholding_rate, withheld, net, bank_id, iban, held_reason)
            SELECT %(run)s, o.recipient_id, pl.id, l.line, %(month)s, o.monthly, o.days_paid, %(days)s, o.other,
                   o.gross, o.rate, o.withheld, o.gross - o.withheld, o.bank_id, o.iban, o.held_reason
            FROM _run_rows o
            LEFT JOIN _run_lines l USING (recipient_id)
            LEFT JOIN payments_paymentlist pl ON pl.run_id = %(run)s AND pl.bank_id = o.bank_id AND o.held_reason = ''
            """,
            args,
        )
        progress("items", payments=cursor.rowcount)
        cursor.execute(
            """
            INSERT INTO payments_paymentitem (payment_id, kind, for_month, gross, withheld, decision_id, repays_id)
            SELECT p.id, i.kind, i.for_month, i.gross, i.withheld, i.decision_id, i.repays_id
            FROM _run_items i JOIN payments_payment p ON p.run_id = %(run)s AND p.recipient_id = i.recipient_id
            """,
            args,
        )
        Recovery.objects.bulk_create(recoveries)
        cursor.execute(
            """
            UPDATE payments_paymentrun r SET count = t.count, gross = t.gross, withheld = t.withheld,
                   net = t.gross - t.withheld, held_back = t.held
            FROM (
                SELECT count(*) FILTER (WHERE held_reason = '') AS count,
                       coalesce(sum(gross) FILTER (WHERE held_reason = ''), 0) AS gross,
                       coalesce(sum(withheld) FILTER (WHERE held_reason = ''), 0) AS withheld,
                       count(*) FILTER (WHERE held_reason <> '') AS held
                FROM _run_rows
            ) t
            WHERE r.id = %(run)s
            """,
            args,
        )


def _settle_in_python(
    run: PaymentRun, parameters: RunParameters, recipient_ids: list[int], cursor: Any
) -> list[Recovery]:
    """Settle the recipients the SQL pass does not: write their rows to ``_run_calc`` and
    ``_run_items``, and return their recoveries."""
    recoveries: list[Recovery] = []
    calc_rows: list[tuple[Any, ...]] = []
    item_rows: list[tuple[Any, ...]] = []
    month = parameters.month
    for recipient in Recipient.objects.filter(pk__in=recipient_ids).order_by("pk"):
        rate = parameters.rates[recipient.payment_type]
        settlement = settle(recipient, parameters) if recipient.settle_requested_at is not None else None
        if settlement is None and recipient.status in PAID_STATUSES and recipient.amount is not None:
            # Only a repayment brought it here: its month as the SQL pass would pay it.
            entitlement = entitlement_of(recipient, parameters.index_steps.get(recipient.payment_type, ()))
            if entitlement is not None and not entitlement.lump_sum:
                settlement = Settlement(recipient.pk, due_for(entitlement, month))
        items = list(settlement.items) if settlement else []
        items += repayments(recipient.pk, month)
        monthly = settlement.current.amount if settlement else Decimal("0.00")
        days_paid = settlement.current.days_paid if settlement else 0
        other = sum((item["gross"] for item in items), Decimal("0.00"))
        other_withheld = Decimal("0.00")
        for item in items:
            item.setdefault("withheld", withheld(item["gross"], rate))
            other_withheld += item["withheld"]
            decision: Decision | None = item.get("decision")
            item_rows.append(
                (
                    recipient.pk,
                    item["kind"],
                    item["for_month"],
                    item["gross"],
                    item["withheld"],
                    decision.pk if decision else None,
                    item.get("repays"),
                )
            )
        calc_rows.append((recipient.pk, monthly, days_paid, other, other_withheld))
        for recovery in settlement.recoveries if settlement else []:
            decision = recovery["decision"]
            recoveries.append(
                Recovery(
                    recipient_id=recipient.pk,
                    payment_id=recovery["payment_id"],
                    for_month=recovery["for_month"],
                    amount=recovery["amount"],
                    reason=recovery["reason"],
                    decision=decision,
                    run=run,
                )
            )
    cursor.executemany("INSERT INTO _run_calc VALUES (%s, %s, %s, %s, %s)", calc_rows)
    cursor.executemany("INSERT INTO _run_items VALUES (%s, %s, %s, %s, %s, %s, %s)", item_rows)
    return recoveries


def _check_order(month: date) -> None:
    """Runs go month after month: none while an earlier one is not released, none before a
    later one."""
    earlier = PaymentRun.objects.filter(month__lt=month).exclude(state=RunState.RELEASED).order_by("month").first()
    if earlier is not None:
        raise DomainError(
            _("The run for %(earlier)s is not released yet: release it before building %(month)s.")
            % {"earlier": f"{earlier.month:%m.%Y}", "month": f"{month:%m.%Y}"}
        )
    if PaymentRun.objects.filter(month__gt=month).exists():
        raise DomainError(_("A run for a later month exists: %(month)s cannot be built.") % {"month": f"{month:%m.%Y}"})


def _clear(run: PaymentRun) -> None:
    """What an earlier, unreleased build of the run wrote (a rebuild starts from nothing)."""
    PaymentItem.objects.filter(payment__run=run).delete()
    Recovery.objects.filter(run=run).delete()
    Payment.objects.filter(run=run).delete()
    run.lists.all().delete()


def build_run(*, run_id: int, actor: Actor) -> PaymentRun:
    """Build the run if it is being built and no other worker is at it; otherwise leave it as
    it is (idempotent). All or nothing."""
    progress = Progress(run_id)
    try:
        _build_in_one_transaction(run_id, actor, progress)
    finally:
        progress.close()
    return PaymentRun.objects.get(pk=run_id)


def _build_in_one_transaction(run_id: int, actor: Actor, progress: Progress) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, run_id])
            if not cursor.fetchone()[0]:
                raise RunBusy(_("This run is being built by another worker."))
        run = PaymentRun.objects.get(pk=run_id)
        if run.state != RunState.BUILDING:
            return
        _check_order(run.month)
        parameters = RunParameters.for_month(run.month)
        progress("starting")
        _clear(run)
        _build(run, parameters, progress)
        PaymentRun.objects.filter(pk=run_id).update(
            state=RunState.BUILT, built_at=timezone.now(), parameters=parameters.used, progress={"stage": "built"}
        )
        run = PaymentRun.objects.get(pk=run_id)
        audit_record(
            actor=actor,
            action="payments.run_build",
            obj=run,
            data={
                "month": f"{run.month:%Y-%m}",
                "count": run.count,
                "net": f"{run.net:.2f}",
                "held_back": run.held_back,
            },
        )


@with_history_context
def run_start(*, month: date, actor: Actor | User) -> tuple[PaymentRun, bool]:
    """Start the month's run: create it (committed at once, "being built") unless it exists.
    Returns the run and whether this call created it; the caller builds it (here, or a task).
    A second start for the same month creates nothing."""
    if month.day != 1:
        raise DomainError(_("A run is for a month: give its first day."))
    if month > timezone.localdate():
        # A run for a later month would stop every run before it (runs go month after month).
        raise DomainError(_("%(month)s has not begun: its run cannot be started yet.") % {"month": f"{month:%m.%Y}"})
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    if who.user is not None and not who.user.has_perm("payments.add_paymentrun"):
        raise PermissionDenied
    with transaction.atomic():
        existing = PaymentRun.objects.filter(month=month).first()
        if existing is not None:
            return existing, False
        _check_order(month)
        RunParameters.for_month(month)  # refuse before anything is written when a parameter is missing
        run, created = PaymentRun.objects.get_or_create(month=month, defaults={"started_by": who.user})
        if created:
            audit_record(actor=who, action="payments.run_start", obj=run, data={"month": f"{month:%Y-%m}"})
    return run, created


def run_rebuild(*, run_id: int, actor: User, version: int | None = None, reason: str = "") -> PaymentRun:
    """Back to "being built" before approval (bank details corrected since): the rebuilder
    takes part in the run and cannot approve it."""
    return take_step(model=PaymentRun, pk=run_id, step="rebuild", actor=actor, version=version, reason=reason)


@with_history_context
@transaction.atomic
def run_approve(*, run_id: int, actor: User, version: int | None = None) -> PaymentRun:
    """The head of the pension service approves the run, which releases it to the banks; the
    recipients it settled are settled (a decision approved after the build is settled by the
    next run)."""
    run = take_step(model=PaymentRun, pk=run_id, step="approve", actor=actor, version=version)
    cutoff = run.parameters.get("settle_cutoff")
    if cutoff:
        Recipient.objects.filter(settle_requested_at__lte=cutoff).update(settle_requested_at=None)
    return run


def month_of(text: str) -> date:
    """``YYYY-MM`` (ASCII digits only) as the month's first day; a clear error for anything
    else."""
    try:
        if not _MONTH_TEXT.fullmatch(text):
            raise ValueError(text)
        return date(int(text[:4]), int(text[5:]), 1)
    except (ValueError, TypeError) as exc:
        raise DomainError(_("A month is written YYYY-MM, e.g. 2026-12: %(value)s.") % {"value": text[:20]}) from exc


def start_scheduled_run(*, today: date | None = None) -> bool:
    """Start the current month's run on or after the configured day (``PAYMENT_RUN_DAY``), if
    there is none. Whatever refuses it (an earlier run not released, a parameter missing) is
    logged for the service and retried at the next beat."""
    from django.conf import settings

    today = today or timezone.localdate()
    if today.day < settings.PAYMENT_RUN_DAY:
        return False
    try:
        _run, created = run_start(month=today.replace(day=1), actor=Actor(label="schedule payments.start_runs"))
    except DomainError as exc:
        logger.warning("the run for %s was not started: %s", f"{today:%Y-%m}", exc.messages[0])
        return False
    return created


def runs_to_build() -> list[int]:
    return list(PaymentRun.objects.filter(state=RunState.BUILDING).values_list("pk", flat=True))


def recover_after_death(*, participant_ids: list[int] | None = None) -> int:
    """The registry reports a recipient dead: what released runs paid (on a list) for the months
    after the month of death becomes a recovery, pointing to the payment (the month of death is
    paid in full). Set-based and idempotent: a month already recorded for a payment is not
    recorded again. Returns the number recorded."""
    only = "AND pt.id = ANY(%(ids)s)" if participant_ids is not None else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH paid AS (
                SELECT p.recipient_id, p.id AS payment_id, p.month AS for_month, p.monthly AS amount,
                       pt.death_date
                FROM payments_payment p
                JOIN payments_paymentrun r ON r.id = p.run_id AND r.state = 'released'
                JOIN payments_recipient rc ON rc.id = p.recipient_id
                JOIN records_participant pt ON pt.id = rc.participant_id
                WHERE pt.death_date IS NOT NULL AND p.payment_list_id IS NOT NULL AND p.monthly > 0 {only}
                UNION ALL
                SELECT p.recipient_id, p.id, i.for_month, i.gross, pt.death_date
                FROM payments_paymentitem i
                JOIN payments_payment p ON p.id = i.payment_id
                JOIN payments_paymentrun r ON r.id = p.run_id AND r.state = 'released'
                JOIN payments_recipient rc ON rc.id = p.recipient_id
                JOIN records_participant pt ON pt.id = rc.participant_id
                WHERE pt.death_date IS NOT NULL AND p.payment_list_id IS NOT NULL
                  AND i.kind IN ('arrears', 'lump_sum') {only}
            )
            INSERT INTO payments_recovery (recipient_id, payment_id, for_month, amount, reason, created_at)
            SELECT paid.recipient_id, paid.payment_id, paid.for_month, paid.amount, 'death', now()
            FROM paid
            WHERE paid.for_month > date_trunc('month', paid.death_date)::date
              AND NOT EXISTS (
                  SELECT 1 FROM payments_recovery x
                  WHERE x.payment_id = paid.payment_id AND x.for_month = paid.for_month
              )
            """,
            {"ids": participant_ids},
        )
        return int(cursor.rowcount)
