"""Writes of the contributions app: intake of payment orders, their processing, review, refunds.

Rules, paragraphs 6-9; conventions: "Incoming payment orders", "The personal account",
"Within one working day". Every door (upload page, API, ``manage.py ingest``) calls
``intake_file``; every order is processed by ``process_order`` (a Celery task per order, or the
ingest command itself when no worker runs): one transaction per order, set-based writes.
"""

from __future__ import annotations

import hashlib
import logging
import operator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from contributions.checks import KEY_LENGTH, line_reason, order_problems
from contributions.models import (
    EntryKind,
    IncomingFile,
    LedgerEntry,
    LineStatus,
    OrderLine,
    OrderStatus,
    PaymentOrder,
    Refund,
    RefundStatus,
    ReturnDocument,
    ReturnReason,
)
from contributions.parsers.base import ParsedFile, ParsedLine, ParsedOrder
from contributions.parsers.detect import parse_file
from contributions.problems import Amount, Problem, storable, stored
from records.db import bound_cursor, code_array, number_array
from records.identifiers import identifier_error
from records.registry import LOOKUP_BY_IIN, RegistryRecord, get_registry
from records.services import (
    REGISTRY_FIELDS,
    Actor,
    audit_record,
    participant_change_personal_data,
    with_history_context,
)
from records.working_days import CalendarNotLoaded, deadline_for

logger = logging.getLogger(__name__)

LINE_COLUMNS = (
    "order_id",
    "sequence",
    "file_line",
    "iin",
    "last_name",
    "first_name",
    "patronymic",
    "birth_date",
    "period",
    "period_text",
    "amount",
    "status",
    "reason",
)


class DomainError(ValidationError):
    """A request the rules do not allow (shown to the user, never a server error)."""


# When a KNP code (row ``k``) is in force on a date: the one definition, used by ``purpose_kinds``
# and by the order lock of ``process_order``.
_KNP_IN_FORCE = "k.valid_from <= {on} AND (k.valid_to IS NULL OR k.valid_to >= {on})"


def purpose_kinds(on: date) -> dict[str, str]:
    """KNP code -> ledger entry kind, as in force on ``on`` (effective-dated data)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k.code, k.ledger_kind FROM contributions_purposecode k"
            f" WHERE {_KNP_IN_FORCE.format(on='%(on)s')} ORDER BY k.code, k.valid_from",
            {"on": on},
        )
        return dict(cursor.fetchall())


@dataclass
class IntakeResult:
    file: IncomingFile
    orders: list[PaymentOrder]


def receipt_date_problem(received: date) -> str | None:
    """Why a receipt date given at a door cannot be taken (in the active language), or None.

    The receipt date is the bank-statement date the money arrived (conventions, "Within one
    working day"): never in the future, and a day of a year the working-day calendar holds, or
    the order would have no deadline."""
    if received > timezone.localdate():
        return _("The receipt date cannot be in the future.")
    try:
        deadline_for(received)
    except CalendarNotLoaded as exc:
        return _("The working-day calendar has no data for %(year)s, so the order would have no deadline.") % {
            "year": exc.year
        }
    return None


def _deadline(received: date) -> tuple[Any, list[Problem]]:
    try:
        return deadline_for(received), []
    except CalendarNotLoaded as exc:
        return None, [
            Problem(
                0,
                gettext_noop("the working-day calendar has no data for %(year)s: the deadline could not be set"),
                year=exc.year,
            )
        ]


def _lock_payers(payers: set[str]) -> None:
    """Serialise intake per payer so two files with the same order cannot both be originals."""
    with connection.cursor() as cursor:
        for payer in sorted(payers):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", [f"payer:{payer}"])


def _existing_originals(keys: list[tuple[str, str, str, date]]) -> dict[tuple[str, str, str, date], int]:
    if not keys:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.payer_idn, o.reference, o.number, o.document_date, o.id"
            " FROM contributions_paymentorder o"
            " JOIN unnest(%s::text[], %s::text[], %s::text[], %s::date[]) AS k(p, r, n, d)"
            "   ON o.payer_idn = k.p AND o.reference = k.r AND o.number = k.n AND o.document_date = k.d"
            " WHERE o.is_original",
            [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [k[3] for k in keys]],
        )
        return {(p, r, n, d): pk for p, r, n, d, pk in cursor.fetchall()}


def _clip(value: str, size: int) -> str:
    return value[:size]


def _order_fields(parsed: ParsedOrder) -> dict[str, Any]:
    return {
        "first_line": parsed.first_line,
        "reference": _clip(parsed.reference, KEY_LENGTH),
        "number": _clip(parsed.number, KEY_LENGTH),
        "document_date": parsed.document_date,
        "payer_idn": _clip(parsed.payer_idn, 12),
        "payer_name": _clip(parsed.payer_name, 200),
        "payer_account": _clip(parsed.payer_account, 34),
        "payer_bic": _clip(parsed.payer_bic, 11),
        "payee_idn": _clip(parsed.payee_idn, 12),
        "payee_bic": _clip(parsed.payee_bic, 11),
        "payee_account": _clip(parsed.payee_account, 34),
        "knp": _clip(parsed.knp, 3),
        "value_date": parsed.value_date,
        "total": parsed.total,  # (the parsers refuse amounts the columns cannot hold: MAX_AMOUNT_DIGITS)
        "lines_total": len(parsed.lines),
        "amount_lines": sum((ln.amount for ln in parsed.lines if ln.amount is not None), Decimal("0")),
    }


def _copy_lines(rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    statement = f"COPY contributions_orderline ({', '.join(LINE_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _line_row(order_id: int, line: ParsedLine) -> tuple[Any, ...]:
    return (
        order_id,
        line.sequence,
        line.file_line,
        _clip(line.iin, 40),
        _clip(line.last_name, 200),
        _clip(line.first_name, 200),
        _clip(line.patronymic, 200),
        line.birth_date,
        line.period,
        _clip(line.period_text, 20),
        line.amount,
        LineStatus.PENDING,
        "",
    )


@with_history_context
def intake_file(
    *,
    raw: bytes,
    file_name: str,
    door: str,
    actor: Actor,
    received: date | None = None,
    parsed: ParsedFile | None = None,
    enqueue: bool = True,
) -> IntakeResult:
    """Store what was sent, byte for byte, then split it into orders and hand each to the pipeline.

    In one transaction: the raw file, one ``PaymentOrder`` per message (duplicates and orders that
    are wrong as a whole are settled here, with their final status) and their lines. After
    commit, each open order is queued; if the broker is down the orders stay ``received`` and
    the sweeper queues them later (nothing is lost).
    """
    received = received or timezone.localdate()
    if parsed is None:
        parsed = parse_file(raw, file_name)
    deadline, deadline_errors = _deadline(received)
    file_name = storable(file_name)
    try:
        return _intake(raw, file_name, door, actor, received, parsed, deadline, deadline_errors, enqueue=enqueue)
    except (DataError, IntegrityError) as exc:
        # A value the parsers let through that the database refuses (a defect to fix): the bytes
        # are kept all the same, with one order that needs review and says why.
        logger.exception("payment order file %r could not be taken in as read; kept for review", file_name)
        problem = Problem(
            0,
            gettext_noop("the file could not be taken in as read (%(error)s): a staff member must review it"),
            error=type(exc).__name__,
        )
        return _intake(
            raw,
            file_name,
            door,
            actor,
            received,
            ParsedFile(encoding=parsed.encoding, errors=[problem]),
            deadline,
            deadline_errors,
            enqueue=enqueue,
        )


def _intake(
    raw: bytes,
    file_name: str,
    door: str,
    actor: Actor,
    received: date,
    parsed: ParsedFile,
    deadline: datetime | None,
    deadline_errors: list[Problem],
    *,
    enqueue: bool,
) -> IntakeResult:
    now = timezone.now()
    with transaction.atomic():
        incoming = IncomingFile.objects.create(
            door=door,
            file_name=_clip(file_name, 255),
            raw=raw,
            sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
            encoding=parsed.encoding,
            received=received,
            submitted_by=actor.user,
            submitted_label=actor.label,
        )
        orders: list[PaymentOrder] = []
        if not parsed.orders:
            errors = list(parsed.errors) or [Problem(0, gettext_noop("the file holds no payment order"))]
            orders.append(
                PaymentOrder.objects.create(
                    file=incoming,
                    position=1,
                    first_line=parsed.errors[0].line if parsed.errors else 0,
                    received=received,
                    deadline=deadline,
                    status=OrderStatus.NEEDS_REVIEW,
                    is_original=False,
                    created_at=now,
                    errors=stored(errors + deadline_errors),
                )
            )
        else:
            knp = set(purpose_kinds(received))
            problems_of = [order_problems(order, known_knp=knp) for order in parsed.orders]
            # Only an order that is right as a whole claims its key: one that needs review (its
            # key may be cut, garbled or someone else's) neither blocks the order it names nor
            # makes the payer's corrected order a duplicate.
            keys = [
                None if problems else p.duplicate_key for p, problems in zip(parsed.orders, problems_of, strict=True)
            ]
            _lock_payers({k[0] for k in keys if k is not None})
            existing = _existing_originals([k for k in keys if k is not None])
            first_in_file: dict[tuple[str, str, str, date], int] = {}
            originals: list[tuple[ParsedOrder, PaymentOrder]] = []
            duplicates: list[tuple[int, PaymentOrder]] = []  # (index of the first in this file or -1, order)
            for position, order in enumerate(parsed.orders, start=1):
                key, problems = keys[position - 1], problems_of[position - 1]
                fields = _order_fields(order)
                if key is not None and (key in existing or key in first_in_file):
                    duplicate = PaymentOrder(
                        file=incoming,
                        position=position,
                        received=received,
                        deadline=deadline,
                        status=OrderStatus.DUPLICATE,
                        created_at=now,  # before finished_at: a duplicate takes no time
                        is_original=False,
                        duplicate_of_id=existing.get(key),  # or the first in this file, once saved
                        finished_at=now,
                        **fields,
                    )
                    duplicates.append((first_in_file.get(key, -1), duplicate))
                    continue
                status = OrderStatus.NEEDS_REVIEW if problems else OrderStatus.RECEIVED
                original = PaymentOrder(
                    file=incoming,
                    position=position,
                    received=received,
                    deadline=deadline,
                    status=status,
                    created_at=now,
                    is_original=key is not None,
                    errors=stored(problems + deadline_errors),
                    **fields,
                )
                if key is not None:
                    first_in_file[key] = len(originals)
                originals.append((order, original))
            PaymentOrder.objects.bulk_create([o for _, o in originals])
            for index, duplicate in duplicates:
                if index >= 0:
                    duplicate.duplicate_of_id = originals[index][1].pk
            PaymentOrder.objects.bulk_create([d for _, d in duplicates])
            _copy_lines([_line_row(saved.pk, line) for parsed_order, saved in originals for line in parsed_order.lines])
            orders = sorted([o for _, o in originals] + [d for _, d in duplicates], key=lambda o: o.position)
        audit_record(
            actor=actor,
            action="orders.intake",
            obj=incoming,
            data={"door": door, "orders": len(orders), "sha256": incoming.sha256, "received": received.isoformat()},
        )
        open_ids = [o.pk for o in orders if o.status == OrderStatus.RECEIVED]
        if enqueue and open_ids:
            transaction.on_commit(lambda: enqueue_orders(open_ids))
    return IntakeResult(incoming, orders)


def enqueue_orders(order_ids: list[int]) -> int:
    """Queue orders for the workers; a broker that is down is logged, not raised: the orders stay
    ``received`` and ``sweep_orders`` queues them once the broker is back."""
    from contributions.tasks import process_order_task

    queued = []
    retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
    try:
        with process_order_task.app.producer_or_acquire() as producer:  # one for the whole batch
            for order_id in order_ids:
                process_order_task.apply_async(
                    args=(order_id,), producer=producer, retry=True, retry_policy=retry_policy
                )
                queued.append(order_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: leave the rest for the sweeper
        left = len(order_ids) - len(queued)
        logger.warning("could not queue %s payment order(s) (%s); the sweeper will retry", left, exc)
    if queued:
        PaymentOrder.objects.filter(pk__in=queued).update(queued_at=timezone.now())
    return len(queued)


def _participants_for(
    cursor: psycopg.Cursor[tuple[Any, ...]], records: dict[str, RegistryRecord], actor: Actor, order_id: int
) -> dict[str, int]:
    """The participant id of each IIN, creating missing participants from the registry; a known
    participant whose registry data differ gets dated change records (Rules, paragraph 9).

    The comparison is made here rather than in SQL, after one lookup that probes the index once
    per IIN whatever the planner's view of a table that an intake run has just grown
    (``LOOKUP_BY_IIN``).
    """
    if not records:
        return {}
    fields = ("iin", *REGISTRY_FIELDS)
    cursor.execute(_KNOWN_PARTICIPANTS, [number_array(records) or list(records)])
    known = {row[1]: row for row in cursor.fetchall()}
    ids = {iin: row[0] for iin, row in known.items()}
    # In IIN order: two orders creating the same people lock them in the same order (no deadlock).
    missing = sorted((record for iin, record in records.items() if iin not in known), key=lambda r: r.iin)
    if missing:
        now = timezone.now()
        cursor.execute(_NEW_PARTICIPANTS, [now, now, *([getattr(r, f) for r in missing] for f in fields)])
        ids.update((iin, pk) for pk, iin in cursor.fetchall())
        if len(ids) < len(records):  # created meanwhile by another order's transaction
            cursor.execute(_KNOWN_PARTICIPANTS, [[iin for iin in records if iin not in ids]])
            ids.update((row[1], row[0]) for row in cursor.fetchall())
        if len(ids) < len(records):
            raise IncompletePosting(order_id)
    for iin, row in known.items():
        record = records[iin]
        current = _registry_values(record)
        if current == row[2:]:  # the usual case: nothing changed, compared at C speed
            continue
        changes = {f: new for f, old, new in zip(REGISTRY_FIELDS, row[2:], current, strict=True) if old != new}
        if changes:
            participant_change_personal_data(
                participant_id=row[0],
                changes=changes,
                actor=actor,
                source=f"state registry, checked for payment order {order_id}",
            )
    return ids


_registry_values = operator.attrgetter(*REGISTRY_FIELDS)

_KNOWN_PARTICIPANTS = LOOKUP_BY_IIN.format(
    columns=f"found.id, found.iin, {', '.join(REGISTRY_FIELDS)}", table="records_participant"
)

_NEW_PARTICIPANTS = """
INSERT INTO records_participant
    (iin, last_name, first_name, patronymic, birth_date, gender, death_date, address, postal_code,
     id_document_series, id_document_number, id_document_issuer, citizenship, created_at, updated_at)
SELECT n.iin, n.last_name, n.first_name, n.patronymic, n.birth_date, n.gender, n.death_date,
       '', '', '', '', '', '', %s, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::date[], %s::text[], %s::date[])
    AS n(iin, last_name, first_name, patronymic, birth_date, gender, death_date)
ON CONFLICT (iin) DO NOTHING
RETURNING id, iin
"""

# Lock an open order; with the ledger kind of its KNP as in force on the receipt date. Written as
# a CTE because django-pghistory attaches the history context to every statement except those
# that begin with SELECT, and this one must set it for the whole transaction (records/db.py).
_CLAIM = f"""
WITH claimed AS (
    SELECT o.received, o.payer_idn, k.ledger_kind, o.total
    FROM contributions_paymentorder o
    LEFT JOIN contributions_purposecode k ON k.code = o.knp AND {_KNP_IN_FORCE.format(on="o.received")}
    WHERE o.id = %s AND o.status = 'received'
    ORDER BY k.valid_from DESC NULLS LAST
    LIMIT 1
    FOR UPDATE OF o
)
SELECT * FROM claimed
"""

_LINES = """
SELECT id, sequence, file_line, iin, last_name, first_name, patronymic, birth_date, period, period_text, amount
FROM contributions_orderline WHERE order_id = %s
"""

# The outcome of an order in one statement: every line marked posted or returned (with its
# reason), one ledger entry per posted line, the return document, and the order's totals.
_OUTCOME = """
WITH marked AS (
    UPDATE contributions_orderline l
    SET status = CASE WHEN v.reason = '' THEN 'posted' ELSE 'returned' END, reason = v.reason
    FROM unnest(%(lines)s::bigint[], %(reasons)s::text[]) AS v(id, reason)
    WHERE l.id = v.id AND l.order_id = %(order)s
    RETURNING l.id, l.iin, l.period, l.amount, l.status
), entries AS (
    INSERT INTO contributions_ledgerentry
        (participant_id, period, kind, amount, payer_idn, order_id, line_id, received, posted_at)
    SELECT p.id, m.period, %(kind)s, m.amount, %(payer)s, %(order)s, m.id, %(received)s, %(now)s
    FROM marked m JOIN unnest(%(iins)s::text[], %(participants)s::bigint[]) AS p(iin, id) ON p.iin = m.iin
    WHERE m.status = 'posted'
    RETURNING 1
), document AS (
    INSERT INTO contributions_returndocument (order_id, number, lines_count, total, created_at)
    SELECT %(order)s, %(document)s, %(lines_returned)s, %(amount_returned)s, %(now)s
    WHERE %(lines_returned)s > 0
)
UPDATE contributions_paymentorder
SET status = %(status)s, lines_posted = %(lines_posted)s, lines_returned = %(lines_returned)s,
    amount_posted = %(amount_posted)s, amount_returned = %(amount_returned)s,
    started_at = COALESCE(started_at, %(now)s), finished_at = clock_timestamp(), attempts = attempts + 1
WHERE id = %(order)s
    AND (SELECT count(*) FROM marked) = %(lines_posted)s + %(lines_returned)s
    AND (SELECT count(*) FROM entries) = %(lines_posted)s
"""


@with_history_context
def process_order(*, order_id: int, actor: Actor) -> str | None:
    """Check an order's lines against the state registry and post it, whole or not at all.
    Returns the order's final status, or None when it was not open (nothing done).

    A fixed number of statements whatever the size of the order: lock, lines, registry,
    participants (and the insert of missing ones), outcome. Idempotent: the order row is locked
    and only an open order is processed, so a redelivered or repeated task waits for the first
    and then finds the order final; a worker killed mid-way rolls the transaction back and the
    sweeper queues the order again. (Not SKIP LOCKED: a short lock taken by someone else, e.g.
    marking the order queued, must not make the worker give the order up.) The outcome
    statement checks that every line was marked and every posted line has its entry; otherwise
    nothing is written (``IncompletePosting``).
    """
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as django_cursor:  # sets the history context for the transaction
            django_cursor.execute(_CLAIM, [order_id])
            claimed = django_cursor.fetchone()
        if claimed is None:
            return None
        received, payer, kind, total = claimed
        with bound_cursor() as cursor:
            cursor.execute(_LINES, [order_id])
            outcome = _check_lines([(row[0], ParsedLine(*row[1:])) for row in cursor.fetchall()])
            if total is not None and outcome.amount_posted > total:
                _hold_for_review(order_id, outcome.amount_posted, total)
                return str(OrderStatus.NEEDS_REVIEW)
            participants = _participants_for(cursor, outcome.posted, actor, order_id)
            cursor.execute(
                _OUTCOME,
                {
                    "order": order_id,
                    "iins": number_array(participants) or list(participants),
                    "participants": number_array(participants.values()),
                    "lines": number_array(outcome.line_ids),
                    "reasons": code_array(outcome.reasons),
                    "kind": kind or EntryKind.CONTRIBUTION,
                    "payer": payer,
                    "received": received,
                    "now": now,
                    "document": _return_document_number(received, order_id),
                    "status": str(outcome.status),
                    "lines_posted": outcome.lines_posted,
                    "lines_returned": outcome.lines_returned,
                    "amount_posted": outcome.amount_posted,
                    "amount_returned": outcome.amount_returned,
                },
            )
            if cursor.rowcount != 1:
                raise IncompletePosting(order_id)
    return str(outcome.status)


def _hold_for_review(order_id: int, amount_posted: Decimal, total: Decimal) -> None:
    """The lines that pass would be posted for more than the order paid: possible only when a
    line with a negative amount is returned (``invalid_amount``) while the lines still add up to
    the total. Posting them would put money on personal accounts that never arrived, so the order
    itself is wrong (conventions: ``needs_review``) and waits for a staff member, nothing posted."""
    problem = Problem(
        0,
        gettext_noop("the lines that pass add up to %(posted)s, more than the order pays (%(total)s)"),
        posted=Amount(amount_posted),
        total=Amount(total),
    )
    order = PaymentOrder.objects.get(pk=order_id)
    order.status = OrderStatus.NEEDS_REVIEW
    order.errors = [*order.errors, problem.as_json()]
    order.attempts += 1
    order.started_at = order.started_at or timezone.now()
    order.save(update_fields=["status", "errors", "attempts", "started_at"])


def order_count_failed_attempt(*, order_id: int) -> None:
    """Count a processing attempt that failed (its own transaction rolled back), so that an order
    that keeps failing shows it (``attempts``) while the sweeper keeps queueing it."""
    try:
        PaymentOrder.objects.filter(pk=order_id, status=OrderStatus.RECEIVED).update(attempts=F("attempts") + 1)
    except DatabaseError:  # the database itself is what failed: the log has the task's error
        logger.warning("could not count the failed attempt of payment order %s", order_id)


class IncompletePosting(RuntimeError):
    """The outcome statement found a line it did not mark or a posted line without its entry:
    the order's transaction is rolled back and the order stays open."""

    def __init__(self, order_id: int) -> None:
        super().__init__(f"payment order {order_id}: lines or entries did not add up; nothing was posted")


@dataclass
class _Outcome:
    posted: dict[str, RegistryRecord] = field(default_factory=dict)  # IIN -> record, of posted lines
    line_ids: list[int] = field(default_factory=list)  # every line of the order
    reasons: list[str] = field(default_factory=list)  # per line: its return reason, "" when posted
    amount_posted: Decimal = Decimal("0")
    amount_returned: Decimal = Decimal("0")

    @property
    def lines_returned(self) -> int:
        return sum(1 for reason in self.reasons if reason)

    @property
    def lines_posted(self) -> int:
        return len(self.reasons) - self.lines_returned

    @property
    def status(self) -> OrderStatus:
        if not self.lines_returned:
            return OrderStatus.POSTED
        return OrderStatus.PARTIALLY_RETURNED if self.lines_posted else OrderStatus.RETURNED


def _check_lines(lines: list[tuple[int, ParsedLine]]) -> _Outcome:
    """The line checks of every line, with one registry lookup for the whole order."""
    registry = get_registry().lookup_many({line.iin for _, line in lines if identifier_error(line.iin) is None})
    outcome = _Outcome()
    for pk, line in lines:
        record = registry.get(line.iin)
        reason = line_reason(line, record)
        outcome.line_ids.append(pk)
        if not reason and record is not None:  # (a passing line always has a record)
            outcome.reasons.append("")
            outcome.posted[line.iin] = record
            outcome.amount_posted += line.amount or Decimal("0")
        else:
            outcome.reasons.append(reason or ReturnReason.UNKNOWN_IIN)
            outcome.amount_returned += line.amount or Decimal("0")
    return outcome


def _return_document_number(received: date, order_id: int) -> str:
    return f"RET-{received:%Y%m%d}-{order_id}"


def _create_return_document(order: PaymentOrder, count: int, total: Decimal) -> ReturnDocument:
    return ReturnDocument.objects.create(
        order=order, number=_return_document_number(order.received, order.pk), lines_count=count, total=total
    )


@with_history_context
@transaction.atomic
def order_resolve_review(*, order_id: int, resolved_by: User, note: str) -> PaymentOrder:
    """A staff member returns an order that needs review to the payer in full, with a reason.

    Until then the order is open for the one-working-day clock (conventions, "Within one working
    day"): it is flagged due today or late like an order waiting for a worker."""
    if not resolved_by.has_perm("contributions.resolve_review"):
        raise PermissionDenied
    if not note.strip():
        raise DomainError(_("Give the reason the order is returned."))
    order = PaymentOrder.objects.select_for_update().get(pk=order_id)
    if order.status != OrderStatus.NEEDS_REVIEW:
        raise DomainError(_("Only an order that needs review can be returned this way."))
    lines = OrderLine.objects.filter(order=order)
    lines.update(status=LineStatus.RETURNED, reason=ReturnReason.ORDER_RETURNED)
    amount = lines.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    count = lines.count()
    total = order.total if order.total is not None else amount
    if count or total:  # a file nothing could be read from has nothing to list or pay back
        _create_return_document(order, count, total)
    order.status = OrderStatus.RETURNED
    order.lines_returned, order.amount_returned = count, total
    order.resolved_by, order.resolution_note = resolved_by, note.strip()
    order.finished_at = timezone.now()  # the one-working-day clock stops here, not at intake
    order.save(
        update_fields=["status", "lines_returned", "amount_returned", "resolved_by", "resolution_note", "finished_at"]
    )
    audit_record(actor=Actor.of(resolved_by), action="orders.return_in_full", obj=order, data={"note": note.strip()})
    return order


def refundable(entry: LedgerEntry) -> Decimal:
    """What may still be refunded of an entry: its amount less refunds posted or pending."""
    taken = entry.refunds.exclude(status=RefundStatus.REJECTED).aggregate(total=Sum("amount"))["total"]
    return entry.amount - (taken or Decimal("0"))


@with_history_context
@transaction.atomic
def refund_register(
    *,
    entry_id: int,
    amount: Decimal,
    request_number: str,
    request_date: date,
    reason: str,
    registered_by: User,
) -> Refund:
    """Register a payer's request to refund excess (erroneously) paid contributions or penalties
    (Rules, paragraphs 7(4) and 9). A head approves it later."""
    if not registered_by.has_perm("contributions.add_refund"):
        raise PermissionDenied
    entry = LedgerEntry.objects.select_for_update().get(pk=entry_id)
    if entry.kind == EntryKind.REFUND:
        raise DomainError(_("A refund entry cannot itself be refunded."))
    if amount <= 0 or amount > refundable(entry):
        raise DomainError(_("The amount must be positive and at most what is left to refund of the entry."))
    if request_date > timezone.localdate():
        raise DomainError(_("The payer's request cannot be dated in the future."))
    if entry.refunds.filter(request_number=request_number.strip()).exclude(status=RefundStatus.REJECTED).exists():
        raise DomainError(_("This request of the payer is already registered for this entry."))
    refund = Refund.objects.create(
        entry=entry,
        amount=amount,
        payer_idn=entry.payer_idn,
        request_number=request_number.strip(),
        request_date=request_date,
        reason=reason.strip(),
        registered_by=registered_by,
    )
    audit_record(actor=Actor.of(registered_by), action="refunds.register", obj=refund, data={"amount": str(amount)})
    return refund


@with_history_context
@transaction.atomic
def refund_decide(*, refund_id: int, decided_by: User, approve: bool, note: str = "") -> Refund:
    """Approve (and post as a negative entry that corrects the original) or reject a refund.
    The person who registered it can never decide it."""
    if not decided_by.has_perm("contributions.approve_refund"):
        raise PermissionDenied
    refund = Refund.objects.select_for_update().select_related("entry").get(pk=refund_id)
    if refund.registered_by_id == decided_by.pk:
        raise DomainError(_("A refund cannot be approved or rejected by the person who registered it."))
    if refund.status != RefundStatus.REGISTERED:
        raise DomainError(_("This refund has already been decided."))
    refund.decided_by, refund.decided_at, refund.decision_note = decided_by, timezone.now(), note.strip()
    if approve:
        entry = refund.entry
        refund.posted_entry = LedgerEntry.objects.create(
            participant_id=entry.participant_id,
            period=entry.period,
            kind=EntryKind.REFUND,
            amount=-refund.amount,
            payer_idn=entry.payer_idn,
            order=None,
            line=None,
            received=timezone.localdate(),
            corrects=entry,
        )
        refund.status = RefundStatus.POSTED
    else:
        refund.status = RefundStatus.REJECTED
    refund.save()
    audit_record(
        actor=Actor.of(decided_by),
        action="refunds.approve" if approve else "refunds.reject",
        obj=refund,
        data={"amount": str(refund.amount), "note": refund.decision_note},
    )
    return refund


def flag_deadlines(*, now: datetime | None = None) -> dict[str, int]:
    """Flag open orders whose one-working-day deadline is today, or has passed (conventions,
    "Within one working day"): the heads' deadline page and the order list show the flags, and
    each newly late order leaves an audit event."""
    from contributions.selectors import deadline_q

    now = now or timezone.now()
    due = PaymentOrder.objects.filter(deadline_q("due_today", now)).exclude(deadline_flag="due_today")
    due_count = due.update(deadline_flag="due_today", flagged_at=now)
    newly_late = list(
        PaymentOrder.objects.filter(deadline_q("late", now)).exclude(deadline_flag="late").values_list("pk", flat=True)
    )
    if newly_late:
        with transaction.atomic():
            PaymentOrder.objects.filter(pk__in=newly_late).update(deadline_flag="late", flagged_at=now)
            audit_record(
                actor=Actor(label="task:contributions.sweep_orders"),
                action="orders.late",
                data={"orders": newly_late[:1000], "count": len(newly_late)},
            )
    return {"due_today": due_count, "late": len(newly_late)}


def sweep_orders(*, received_after: timedelta = timedelta(seconds=30), stuck_after: timedelta | None = None) -> int:
    """Queue orders that were never queued (e.g. the broker was down at intake) or were queued
    long ago and are still open (the task was lost, or a worker died and its transaction rolled
    back); run by beat every minute. A task queued twice is harmless: the second finds the order
    final. Returns how many were queued."""
    now = timezone.now()
    if stuck_after is None:
        stuck_after = timedelta(seconds=settings.ORDER_STUCK_AFTER_SECONDS)
    never_queued = Q(queued_at__isnull=True, created_at__lt=now - received_after)
    stuck = Q(queued_at__lt=now - stuck_after)
    open_orders = PaymentOrder.objects.filter(never_queued | stuck, status=OrderStatus.RECEIVED)
    ids = list(open_orders.order_by("pk").values_list("pk", flat=True))
    return enqueue_orders(ids) if ids else 0
