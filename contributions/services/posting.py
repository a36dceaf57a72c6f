"""Stage 3, posting: an order's lines checked against the state registry and posted to the
personal accounts, whole or not at all (Rules, paragraphs 6-9; conventions: "Incoming payment
orders", "The personal account").

``process_order`` runs in a Celery task per order (or in ``ingest --wait`` when no worker runs):
one transaction per order and a fixed number of set-based statements whatever its size.
"""

from __future__ import annotations

import json
import logging
import operator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from contributions.checks import line_reason
from contributions.models import EntryKind, LedgerEntry, LineStatus, OrderStatus, PaymentOrder, ReturnReason
from contributions.parsers.base import ParsedLine
from contributions.problems import Amount, Problem
from contributions.services.common import KNP_IN_FORCE
from records.db import bound_cursor, code_array, number_array
from records.identifiers import identifier_error
from records.registry import LOOKUP_BY_IIN, RegistryRecord, get_registry
from records.services import REGISTRY_FIELDS, Actor, participant_change_personal_data, with_history_context
from records.signals import ledger_changed

logger = logging.getLogger(__name__)


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
        audit = [actor.user.pk if actor.user else None, actor.label, json.dumps({"source": _source(order_id)})]
        cursor.execute(_NEW_PARTICIPANTS, [now, now, *([getattr(r, f) for r in missing] for f in fields), *audit, now])
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
                source=_source(order_id),
            )
    return ids


_registry_values = operator.attrgetter(*REGISTRY_FIELDS)

_KNOWN_PARTICIPANTS = LOOKUP_BY_IIN.format(
    columns=f"found.id, found.iin, {', '.join(REGISTRY_FIELDS)}", table="records_participant"
)


def _source(order_id: int) -> str:
    return f"state registry, checked for payment order {order_id}"


# Participants the pipeline creates get the same audit event as any other creation
# (``records.services.participant_create``), in the same statement.
_NEW_PARTICIPANTS = """
WITH created AS (
INSERT INTO records_participant
    (iin, last_name, first_name, patronymic, birth_date, gender, death_date, address, postal_code,
     id_document_series, id_document_number, id_document_issuer, citizenship, created_at, updated_at)
SELECT n.iin, n.last_name, n.first_name, n.patronymic, n.birth_date, n.gender, n.death_date,
       '', '', '', '', '', '', %s, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::date[], %s::text[], %s::date[])
    AS n(iin, last_name, first_name, patronymic, birth_date, gender, death_date)
ON CONFLICT (iin) DO NOTHING
RETURNING id, iin
), audited AS (
    INSERT INTO records_auditevent (actor_id, actor_label, action, content_type_id, object_pk, data, created_at)
    SELECT %s, %s, 'participant.create', t.id, c.id::text, %s::jsonb, %s
    FROM created c CROSS JOIN django_content_type t
    WHERE t.app_label = 'records' AND t.model = 'participant'
)
SELECT id, iin FROM created
"""

# Lock an open order; with the ledger kind of its KNP as in force on the receipt date. Written as
# a CTE because django-pghistory attaches the history context to every statement except those
# that begin with SELECT, and this one must set it for the whole transaction (records/db.py).
_CLAIM = f"""
WITH claimed AS (
    SELECT o.received, o.payer_idn, k.ledger_kind, o.total
    FROM contributions_paymentorder o
    LEFT JOIN contributions_purposecode k ON k.code = o.knp AND {KNP_IN_FORCE.format(on="o.received")}
    WHERE o.id = %s AND o.status = %s
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
    SET status = CASE WHEN v.reason = '' THEN %(posted)s ELSE %(returned)s END, reason = v.reason
    FROM unnest(%(lines)s::bigint[], %(reasons)s::text[]) AS v(id, reason)
    WHERE l.id = v.id AND l.order_id = %(order)s
    RETURNING l.id, l.iin, l.period, l.amount, l.status
), entries AS (
    INSERT INTO contributions_ledgerentry
        (participant_id, period, kind, amount, payer_idn, order_id, line_id, received, posted_at)
    SELECT p.id, m.period, %(kind)s, m.amount, %(payer)s, %(order)s, m.id, %(received)s, %(now)s
    FROM marked m JOIN unnest(%(iins)s::text[], %(participants)s::bigint[]) AS p(iin, id) ON p.iin = m.iin
    WHERE m.status = %(posted)s
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
            django_cursor.execute(_CLAIM, [order_id, OrderStatus.RECEIVED.value])
            claimed = django_cursor.fetchone()
        if claimed is None:
            return None
        received, payer, kind, total = claimed
        with bound_cursor() as cursor:
            cursor.execute(_LINES, [order_id])
            outcome = _check_lines([(row[0], ParsedLine(*row[1:])) for row in cursor.fetchall()], received)
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
                    "document": return_document_number(received, order_id),
                    "status": str(outcome.status),
                    "posted": LineStatus.POSTED.value,
                    "returned": LineStatus.RETURNED.value,
                    "lines_posted": outcome.lines_posted,
                    "lines_returned": outcome.lines_returned,
                    "amount_posted": outcome.amount_posted,
                    "amount_returned": outcome.amount_returned,
                },
            )
            if cursor.rowcount != 1:
                raise IncompletePosting(order_id)
            if outcome.lines_posted:
                posted_to = [int(pk) for pk in participants.values()]
                transaction.on_commit(
                    lambda: ledger_changed.send(sender=LedgerEntry, participant_ids=posted_to), robust=True
                )
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
    order.is_original = False  # releases its key: the payer's corrected order is not a duplicate
    order.errors = [*order.errors, problem.as_json()]
    order.attempts += 1
    order.started_at = order.started_at or timezone.now()
    order.save(update_fields=["status", "is_original", "errors", "attempts", "started_at"])


@with_history_context
def order_count_failed_attempt(*, order_id: int, actor: Actor) -> None:
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


def _check_lines(lines: list[tuple[int, ParsedLine]], received: date) -> _Outcome:
    """The line checks of every line, with one registry lookup for the whole order; a period is
    judged against the order's receipt date, not today."""
    registry = get_registry().lookup_many({line.iin for _, line in lines if identifier_error(line.iin) is None})
    outcome = _Outcome()
    for pk, line in lines:
        record = registry.get(line.iin)
        reason = line_reason(line, record, received=received)
        outcome.line_ids.append(pk)
        if not reason and record is not None:  # (a passing line always has a record)
            outcome.reasons.append("")
            outcome.posted[line.iin] = record
            outcome.amount_posted += line.amount or Decimal("0")
        else:
            outcome.reasons.append(reason or ReturnReason.UNKNOWN_IIN)
            outcome.amount_returned += line.amount or Decimal("0")
    return outcome


def return_document_number(received: date, order_id: int) -> str:
    return f"RET-{received:%Y%m%d}-{order_id}"
