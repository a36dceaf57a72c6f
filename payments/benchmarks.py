"""The monthly payment run at national scale: the data builder and the naive baseline of
``manage.py bench_payment_run`` (issue 18, "Performance").

The builder fills a throwaway, migrated database set-based (``INSERT … SELECT generate_series``,
no Python per row) with N recipients whose payments are in force: each with its participant
(valid IINs, ``bench_pages``' participant builder), one approved assignment decision and, but
for about 1 %, a bank account at one of the banks migration 0007 seeds (a valid IBAN of that
bank). Everything is derived from the recipient's number by fixed formulas and PostgreSQL's
``hashint8extended``, so two builds of the same size hold the same rows:

- payment types 0701 (with a deceased breadwinner among extra participants), 0702 (with a degree
  of lost ability), 0703 and 0705; no 0704 (a lump sum is settled per recipient, not by the
  set-based pass);
- risk dates over 2022-2025 (disability and breadwinner amounts carry the indexation steps after
  them), 1 % from inside the month (its first month, paid in proportion), 5 % ending inside the
  month (its last month, paid in proportion);
- 2 % changed their bank account later (the later one is paid), 0.5 % have a change dated after
  the month (not paid to yet), 1 % have no account (held back), 0.2 % are reported dead by the
  registry (held back).

The baseline (``naive_loop``) builds the same month for a sample of them the way one would
without the set-based pass: read each recipient, compute what is due with ``payments.due``,
find the account in force, ``Payment.objects.create`` — in one transaction that is rolled back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from django.contrib.auth.models import User
from django.db import transaction

from contributions.benchmarks import pages
from payments.due import due_for, month_end
from payments.models import BankAccount, HeldReason, Payment, PaymentList, PaymentRun, Recipient
from payments.services.runs import RunParameters, current_account, entitlement_of, withheld
from records.identifiers import is_kz_iban, is_valid_iin_bin, make_kz_iban

Log = Callable[[str], None]

MONTH = date(2026, 1, 1)
FIRST_RISK = date(2022, 1, 1)
RISK_DAYS = (date(2025, 12, 31) - FIRST_RISK).days + 1

# One recipient in … (by its number r, so that small test sizes have some of each).
NO_ACCOUNT = (97, 5)  # r % 97 == 5: no bank account, held back
REPORTED_DEAD = (499, 7)  # the registry reports the recipient dead before the month: held back
STARTS_IN_MONTH = (100, 17)  # risk date inside the month: its first month in proportion
ENDS_IN_MONTH = (20, 3)  # the payment ends inside the month: its last month in proportion
CHANGED_ACCOUNT = (50, 11)  # a second, later account: the later one is paid
FUTURE_ACCOUNT = (200, 13)  # a change dated after the month: not paid to yet
DECEASED_PER_RECIPIENTS = 10  # one deceased breadwinner participant per ten recipients

USERS = ("bench-drafter", "bench-verifier", "bench-approver")

# Tables loaded (row-history triggers skipped, secondary indexes built after the load).
LOADED_TABLES = ("records_participant", "payments_recipient", "payments_decision", "payments_bankaccount")
# The columns each INSERT below writes: checked against the migrated schema first, so a new NOT
# NULL column without a database default fails with its name, not deep in a statement.
WRITTEN = {
    "payments_recipient": "id participant_id payment_type application_date status risk_date decision_date end_date "
    "participation_months average_income loss_degree deceased_id unemployed_registered_on unemployed_certificate "
    "leave_days child_birth_order amount suspended_from settle_requested_at registered_by_id registered_at",
    "payments_decision": "id version kind state number legal_basis effective_date amount lump_sum period_start "
    "period_end previous_amount difference difference_months suspend_deadline suspension_id withdrawn_in_time "
    "end_reason note calculation computed_at window_start window_end needs_head_of_service threshold proposal_id "
    "drafted_by_id drafted_at submitted_at verified_by_id verified_at approved_by_id approved_at rejection_reason "
    "recipient_id",
    "payments_bankaccount": "recipient_id bank_id iban valid_from reason entered_by_id entered_at",
}


def _every(r: str, rule: tuple[int, int]) -> str:
    return f"({r} % {rule[0]} = {rule[1]})"


def _h(expr: str, seed: int, modulus: int) -> str:
    return pages._h(expr, seed, modulus)


@dataclass(frozen=True)
class Staff:
    drafter: int
    verifier: int
    approver: int


def create_staff() -> Staff:
    """The three people of an approved decision (drafter, verifier, approver: the database
    holds them apart); the drafter registered the recipients and entered their accounts."""
    ids = [User.objects.create_user(name, password=None).pk for name in USERS]
    return Staff(*ids)


@dataclass(frozen=True)
class Built:
    seconds: float
    phases: dict[str, float]
    rows: dict[str, int]
    triggers_skipped: bool


def build(name: str, recipients: int, staff: Staff, log: Log) -> Built:
    """Fill database ``name`` (migrated, with ``staff`` in it) with ``recipients`` recipients in
    force and what they need, then build the dropped indexes again and ``VACUUM ANALYZE`` the
    loaded tables (as a database in service would have them)."""
    deceased = max(1, recipients // DECEASED_PER_RECIPIENTS)
    shape = pages.Shape.of(participants=recipients + deceased, entries=recipients + deceased)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    with pages.connect(name) as conn:
        _check_columns(conn)
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        triggers_skipped = pages._skip_triggers(conn)
        dropped = _drop_secondary_indexes(conn)
        pages._lookup_tables(conn, shape)

        def phase(label: str, *statements: str) -> None:
            clock = time.perf_counter()
            for statement in statements:
                conn.execute(statement.encode())
            phases[label] = round(time.perf_counter() - clock, 2)
            log(f"  {label}: {phases[label]} s")

        phase("participants", pages._participants_sql(shape), _deaths_sql(recipients))
        phase("recipients", _recipients_sql(recipients, deceased, staff))
        phase("decisions", _decisions_sql(staff))
        phase("bank_accounts", *_accounts_sql(staff))
        for table in ("records_participant", "payments_recipient", "payments_decision"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        phase("indexes", *(definition for _, definition in dropped))
        phase("vacuum_analyze", *(f"VACUUM (ANALYZE) {table}" for table in LOADED_TABLES))
        rows = {table: _count(conn, table) for table in LOADED_TABLES}
        _check_identifiers(conn)
    return Built(round(time.perf_counter() - started, 1), phases, rows, triggers_skipped)


def _count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}".encode()).fetchone()
    return int(row[0]) if row else 0


def _check_identifiers(conn: psycopg.Connection) -> None:
    """The first thousand IINs and IBANs as the Python helpers make and check them."""
    iins = [row[0] for row in conn.execute("SELECT iin FROM records_participant ORDER BY id LIMIT 1000")]
    if not all(is_valid_iin_bin(iin) for iin in iins):
        raise pages.BenchError("the builder wrote an invalid IIN")
    accounts = conn.execute(
        "SELECT a.iban, b.iban_code FROM payments_bankaccount a JOIN payments_bank b ON b.bic = a.bank_id"
        " ORDER BY a.id LIMIT 1000"
    ).fetchall()
    if not all(is_kz_iban(iban) and iban == make_kz_iban(code, iban[7:]) for iban, code in accounts):
        raise pages.BenchError("the builder wrote an invalid IBAN")


def _check_columns(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name = ANY(%s) AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
        [list(WRITTEN)],
    ).fetchall()
    missing = sorted(f"{table}.{column}" for table, column in rows if column not in WRITTEN[table].split())
    if missing:
        raise pages.BenchError(
            f"the builder does not write these NOT NULL columns (add them to its INSERTs): {missing}"
        )


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Drop the loaded tables' indexes that no constraint uses (one sort after the load is much
    cheaper than a million random insertions); returns (name, definition) to build them again."""
    dropped = []
    for table in LOADED_TABLES:
        rows = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [table],
        ).fetchall()
        for index, definition in rows:
            conn.execute(f"DROP INDEX {index}".encode())
            dropped.append((index, definition))
    return dropped


def _columns(table: str) -> str:
    return ", ".join(WRITTEN[table].split())


def _deaths_sql(recipients: int) -> str:
    """Participants after the recipients' own are deceased breadwinners (died before 2022); a few
    recipients are reported dead by the registry before the month."""
    return f"""
    UPDATE records_participant
    SET death_date = CASE WHEN id > {recipients} THEN date '2021-12-31' - {_h("id", 61, 3000)}::int
                          ELSE date '{MONTH:%Y-%m-%d}' - 1 - {_h("id", 62, 200)}::int END
    WHERE id > {recipients} OR {_every("id", REPORTED_DEAD)}
    """


def _recipients_sql(recipients: int, deceased: int, staff: Staff) -> str:
    """Recipient r is participant r, in force with its amount, registered by the drafter; the
    application (and the bank account given with it) is in the month at the latest."""
    month, last = f"date '{MONTH:%Y-%m-%d}'", f"date '{month_end(MONTH):%Y-%m-%d}'"
    return f"""
    INSERT INTO payments_recipient ({_columns("payments_recipient")})
    SELECT r, r, t, applied, 'in_force', risk, applied + 10,
           CASE WHEN {_every("r", ENDS_IN_MONTH)} THEN {month} + {_h("r", 33, 30)}::int
                WHEN t IN ('0703', '0705') THEN {last} + 1 + {_h("r", 34, 365)}::int END,
           24 + {_h("r", 35, 200)}::int, round(amount * 2.5, 2),
           CASE WHEN t = '0702' THEN 30 + {_h("r", 36, 71)}::int END,
           CASE WHEN t = '0701' THEN {recipients + 1} + {_h("r", 37, deceased)} END,
           CASE WHEN t = '0703' THEN risk + 1 END,
           CASE WHEN t = '0703' THEN 'БЗ-' || lpad(r::text, 8, '0') ELSE '' END,
           NULL, CASE WHEN t = '0705' THEN 1 + {_h("r", 38, 4)}::int END,
           amount, NULL, NULL, {staff.drafter}, applied::timestamp AT TIME ZONE 'Asia/Almaty'
    FROM (SELECT *, least(risk + delay, {last}) AS applied FROM (
        SELECT r,
               CASE WHEN {_h("r", 30, 100)} < 15 THEN '0701' WHEN {_h("r", 30, 100)} < 50 THEN '0702'
                    WHEN {_h("r", 30, 100)} < 65 THEN '0703' ELSE '0705' END AS t,
               CASE WHEN {_every("r", STARTS_IN_MONTH)} THEN {month} + 1 + {_h("r", 31, 30)}::int
                    ELSE date '{FIRST_RISK:%Y-%m-%d}' + {_h("r", 31, RISK_DAYS)}::int END AS risk,
               {_h("r", 32, 30)}::int AS delay,
               (20000 + {_h("r", 39, 180000)} + {_h("r", 40, 100)} / 100.0)::numeric(16, 2) AS amount
        FROM generate_series(1, {recipients}::bigint) AS r
    ) AS x) AS y
    ORDER BY r
    """


def _decisions_sql(staff: Staff) -> str:
    """One approved assignment per recipient, numbered per year of approval and payment type."""
    return f"""
    INSERT INTO payments_decision ({_columns("payments_decision")})
    SELECT id, 1, 'assign', 'approved',
           to_char(approved, 'YYYY') || '-' || payment_type || '-'
               || lpad((row_number() OVER (PARTITION BY to_char(approved, 'YYYY'), payment_type ORDER BY id))::text,
                       6, '0'),
           'Social Code of the Republic of Kazakhstan (benchmark data)', risk_date, amount, false, risk_date,
           end_date, NULL, NULL, '[]'::jsonb, NULL, NULL, NULL, '', '', '{{}}'::jsonb, drafted, NULL, NULL, false,
           '{{}}'::jsonb, NULL, {staff.drafter}, drafted, drafted + interval '1 hour', {staff.verifier},
           drafted + interval '1 day', {staff.approver}, approved, '', id
    FROM (
        SELECT id, payment_type, risk_date, end_date, amount, registered_at + interval '2 days' AS drafted,
               registered_at + interval '3 days' AS approved
        FROM payments_recipient
    ) AS r
    ORDER BY id
    """


def _iban(code: str, account: str) -> str:
    """The IBAN of ``account`` (13 digits) at the bank of ``code``, with its ISO 13616 check
    digits (``records.identifiers.make_kz_iban`` in SQL)."""
    body = f"({code} || {account})"
    return f"('KZ' || lpad((98 - ({body} || '203500')::numeric % 97)::text, 2, '0') || {body})"


def _accounts_sql(staff: Staff) -> list[str]:
    """The account from the application on (all but NO_ACCOUNT), a later one for
    CHANGED_ACCOUNT, and one dated after the month for FUTURE_ACCOUNT; banks skewed towards
    the first ones, as most recipients bank with a few large banks."""
    banks = "(SELECT bic, iban_code, (row_number() OVER (ORDER BY bic) - 1)::int AS i FROM payments_bank)"
    count = "(SELECT count(*) FROM payments_bank)"
    statements = []
    for kind, seed, valid_from, where in (
        (1, 51, "r.application_date", f"NOT {_every('r.id', NO_ACCOUNT)}"),
        (
            2,
            52,
            f"greatest(r.application_date + 1, date '2025-06-01' + {_h('r.id', 53, 180)}::int)",
            f"NOT {_every('r.id', NO_ACCOUNT)} AND {_every('r.id', CHANGED_ACCOUNT)}",
        ),
        (
            3,
            54,
            f"date '{month_end(MONTH):%Y-%m-%d}' + 10",
            f"NOT {_every('r.id', NO_ACCOUNT)} AND {_every('r.id', FUTURE_ACCOUNT)}",
        ),
    ):
        account = f"('{kind}' || lpad(r.id::text, 12, '0'))"
        statements.append(f"""
        INSERT INTO payments_bankaccount ({_columns("payments_bankaccount")})
        SELECT r.id, b.bic, {_iban("b.iban_code", account)}, {valid_from}, 'application', {staff.drafter},
               r.registered_at
        FROM payments_recipient AS r
        JOIN {banks} AS b ON b.i = floor({count} * power({_h("r.id", seed, 1_000_000)} / 1e6, 2))::int
        WHERE {where}
        ORDER BY r.id
        """)
    return statements


# --- The naive baseline ----------------------------------------------------------------------


def sample(recipients: int, size: int, *, seed: int = 18) -> list[int]:
    """``size`` recipient ids spread over all of them (reproducible)."""
    rng = random.Random(seed)  # noqa: S311 - a benchmark sample, not a secret
    return sorted(rng.sample(range(1, recipients + 1), min(size, recipients)))


Row = tuple[Any, ...]


def payment_row(payment: Payment) -> Row:
    """What both builds must agree on for a recipient (not the list's number and line: the two
    number their lines over different sets)."""
    return (
        payment.month,
        payment.monthly,
        payment.days_paid,
        payment.days_in_month,
        payment.other,
        payment.gross,
        payment.withholding_rate,
        payment.withheld,
        payment.net,
        payment.bank_id,
        payment.iban,
        payment.held_reason,
    )


@dataclass(frozen=True)
class LoopResult:
    seconds: float
    rows: dict[int, Row]


def naive_loop(recipient_ids: Sequence[int], month: date = MONTH) -> LoopResult:
    """The month's payments for ``recipient_ids`` one recipient at a time through the ORM, into
    a throwaway run (a list per bank, with its totals) in one transaction that is rolled back.
    Timed from the parameters to the lists' totals; the rows are read back before the rollback."""
    started = time.perf_counter()
    with transaction.atomic():
        parameters = RunParameters.for_month(month)
        run = PaymentRun.objects.create(month=month)
        lists: dict[str, PaymentList] = {}
        for pk in recipient_ids:
            recipient = Recipient.objects.select_related("participant").get(pk=pk)
            entitlement = entitlement_of(recipient, parameters.index_steps.get(recipient.payment_type, ()))
            if entitlement is None or entitlement.lump_sum:
                continue
            due = due_for(entitlement, month)
            if due.amount <= 0:
                continue
            rate = parameters.rates[recipient.payment_type]
            kept = withheld(due.amount, rate)
            account: BankAccount | None = current_account(recipient.pk, month)
            death = recipient.participant.death_date
            held = (
                HeldReason.REPORTED_DEAD
                if death is not None and death < month
                else HeldReason.NO_ACCOUNT
                if account is None
                else ""
            )
            payment_list, line = None, None
            if not held and account is not None:
                payment_list = lists.get(account.bank_id)
                if payment_list is None:
                    payment_list = PaymentList.objects.create(
                        run=run,
                        bank_id=account.bank_id,
                        number=f"BENCH-{len(lists) + 1:02d}",
                        count=0,
                        gross=Decimal("0.00"),
                        withheld=Decimal("0.00"),
                        net=Decimal("0.00"),
                        checksum="",
                    )
                    lists[account.bank_id] = payment_list
                payment_list.count += 1
                payment_list.gross += due.amount
                payment_list.withheld += kept
                line = payment_list.count
            Payment.objects.create(
                run=run,
                recipient=recipient,
                payment_list=payment_list,
                line=line,
                month=month,
                monthly=due.amount,
                days_paid=due.days_paid,
                days_in_month=due.days_in_month,
                other=Decimal("0.00"),
                gross=due.amount,
                withholding_rate=rate,
                withheld=kept,
                net=due.amount - kept,
                bank_id=account.bank_id if account else None,
                iban=account.iban if account else "",
                held_reason=held,
            )
        for payment_list in lists.values():
            payment_list.net = payment_list.gross - payment_list.withheld
            payment_list.save(update_fields=["count", "gross", "withheld", "net"])
        seconds = time.perf_counter() - started
        rows = {payment.recipient_id: payment_row(payment) for payment in Payment.objects.filter(run=run)}
        transaction.set_rollback(True)
    return LoopResult(seconds, rows)


def set_based_rows(run_id: int, recipient_ids: Sequence[int]) -> dict[int, Row]:
    """The built run's payments of ``recipient_ids``."""
    payments = Payment.objects.filter(run_id=run_id, recipient_id__in=recipient_ids)
    return {payment.recipient_id: payment_row(payment) for payment in payments}


def disagreements(set_based: dict[int, Row], loop: dict[int, Row]) -> list[str]:
    """Where the two builds differ, one line per recipient."""
    out = []
    for pk in sorted(set(set_based) | set(loop)):
        if set_based.get(pk) != loop.get(pk):
            out.append(f"recipient {pk}: set-based {set_based.get(pk)} != loop {loop.get(pk)}")
    return out


# --- Where the build's time goes ------------------------------------------------------------


class StatementTimer:
    """A Django execute wrapper that times every statement of the build on its connection
    (``connection.execute_wrapper``); statements are told apart by their first words."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split())[:90]
            self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started
            self.calls[key] = self.calls.get(key, 0) + 1

    def top(self, count: int = 8) -> list[dict[str, Any]]:
        ordered = sorted(self.seconds.items(), key=lambda item: -item[1])[:count]
        return [{"statement": key, "seconds": round(seconds, 3), "calls": self.calls[key]} for key, seconds in ordered]


def explain_on(connection: Any, log: Log, *, min_ms: int) -> None:
    """Have PostgreSQL send the plan, with its actual times and rows, of every statement on
    Django's ``connection`` slower than ``min_ms`` as a notice, written to ``log`` (auto_explain;
    needs a superuser). Profiling only: the measuring itself makes the statements slower."""
    connection.ensure_connection()
    raw = connection.connection
    raw.add_notice_handler(lambda diagnostic: log(diagnostic.message_primary or ""))
    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        cursor.execute(f"SET auto_explain.log_min_duration = {int(min_ms)}")
        cursor.execute("SET auto_explain.log_analyze = on")
        cursor.execute("SET auto_explain.log_buffers = on")
        cursor.execute("SET auto_explain.log_nested_statements = on")
        cursor.execute("SET auto_explain.log_level = 'notice'")
