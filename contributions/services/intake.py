"""Stage 1, intake: from the bytes a door received to stored payment orders and their lines.

Rules, paragraph 6; conventions: "Incoming payment orders". Every door (upload page, API file,
API JSON, ``manage.py ingest``) hands the raw bytes to ``intake_file``, which works as an inbox:

1. ``store_file`` commits the raw bytes and their checksum in a transaction of their own, before
   anything is derived from them: nothing a payer sent is ever lost;
2. ``split_file`` reads the stored file (the format is detected from its content, JSON included)
   and splits it into orders and lines in a second transaction. Should that fail for any reason,
   it is rolled back and the file gets one order that needs review naming the error; a file
   left unsplit (the database went away in between) is split again by ``sweep_files``;
3. the open orders are queued after commit (``queueing``) for ``posting``.

Duplicates and conflicts are told apart in ``duplicates`` (normalised key, content checksum).
Only an order that is right as a whole claims its key.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import OperationalError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from contributions.checks import KEY_LENGTH, order_problems
from contributions.models import IncomingFile, LineStatus, OrderStatus, PaymentOrder
from contributions.parsers.base import ParsedFile, ParsedLine, ParsedOrder
from contributions.parsers.detect import parse_file
from contributions.problems import Amount, Problem, storable, stored
from contributions.services.common import purpose_kinds
from contributions.services.deadlines import deadline_of as _deadline
from contributions.services.duplicates import conflict, content_checksum, existing_originals, lock_payers, order_key
from contributions.services.queueing import enqueue_orders
from records.services import Actor, audit_record, with_history_context

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


@dataclass
class IntakeResult:
    file: IncomingFile
    orders: list[PaymentOrder]


def _column_limit(field: str) -> Decimal:
    column = PaymentOrder._meta.get_field(field)
    assert isinstance(column, models.DecimalField)  # noqa: S101 - a definition, checked at import
    return Decimal(10) ** (int(column.max_digits or 0) - int(column.decimal_places or 0))


# What the order's money columns hold (the lines are refused one by one above 13 digits by the
# parsers, but a thousand of them can add up to more), and the longest duplicate key.
_AMOUNT_LIMIT = _column_limit("amount_lines")
_KEY_LENGTH: int = PaymentOrder._meta.get_field("key").max_length  # type: ignore[assignment]


def _clip(value: str, size: int) -> str:
    # Only an order that needs review can hold a value longer than its column (order_problems):
    # it is stored cut for staff to see, never posted.
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
        "amount_lines": _sum_of_lines(parsed),
    }


def _sum_of_lines(parsed: ParsedOrder) -> Decimal:
    """Σ of the lines' amounts, or 0 when it is more than the column holds (the order then
    needs review: ``_write_orders``)."""
    total = sum((ln.amount for ln in parsed.lines if ln.amount is not None), Decimal("0"))
    return total if abs(total) < _AMOUNT_LIMIT else Decimal("0")


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


def store_file(*, raw: bytes, file_name: str, door: str, actor: Actor, received: date) -> IncomingFile:
    """Commit what was sent, byte for byte with its checksum, in a transaction of its own: the
    first thing every door does, so no later failure can lose it. Durable: called inside another
    transaction (which could still roll it back) it refuses to run. The row itself records who
    sent what and when; the audit event of the intake is written with the split."""
    with transaction.atomic(durable=True):
        incoming = IncomingFile.objects.create(
            door=door,
            file_name=_clip(storable(file_name), 255),
            raw=raw,
            sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
            received=received,
            submitted_by=actor.user,
            submitted_label=actor.label,
        )
    return incoming


@with_history_context
def intake_file(
    *,
    raw: bytes,
    file_name: str,
    door: str,
    actor: Actor,
    received: date | None = None,
    enqueue: bool = True,
) -> IntakeResult:
    """Store what was sent, then split it into orders and hand each open one to the pipeline."""
    received = received or timezone.localdate()
    incoming = store_file(raw=raw, file_name=file_name, door=door, actor=actor, received=received)
    orders = split_file(file_id=incoming.pk, actor=actor, enqueue=enqueue, raw=raw)
    return IntakeResult(incoming, orders)


@with_history_context
def split_file(*, file_id: int, actor: Actor, enqueue: bool = True, raw: bytes | None = None) -> list[PaymentOrder]:
    """Read a stored file and write its orders and lines, in one transaction; idempotent (a file
    already split returns its orders).

    A failure never loses more than the order it concerns: should writing the whole file fail
    (a value the database refuses, a defect of ours), the transaction is rolled back and the
    orders are written again one by one, each in a savepoint, an order that still fails being
    stored without its lines as an order that needs review naming the error. Should even that
    fail, the file gets one order that needs review. While the database itself is unavailable
    (``OperationalError``), nothing is written: the file stays unsplit for ``sweep_files``.

    ``raw`` spares reading back the bytes the caller has just stored."""
    try:
        try:
            orders = _split(file_id, actor, raw=raw)
        except OperationalError:
            raise
        except Exception:
            logger.exception("payment order file %s could not be split in one go; trying order by order", file_id)
            try:
                orders = _split(file_id, actor, raw=raw, each_apart=True)
            except OperationalError:
                raise
            except Exception as exc:
                logger.exception("payment order file %s could not be split; kept for review", file_id)
                problem = Problem(
                    0,
                    gettext_noop("the file could not be taken in as read (%(error)s): a staff member must review it"),
                    error=type(exc).__name__,
                )
                orders = _split(file_id, actor, failure=problem)
    except OperationalError:
        logger.exception("payment order file %s stays unsplit: the database is unavailable", file_id)
        return []
    open_ids = [o.pk for o in orders if o.status == OrderStatus.RECEIVED and o.queued_at is None]
    if enqueue and open_ids:
        transaction.on_commit(lambda: enqueue_orders(open_ids))
    return orders


def _split(
    file_id: int,
    actor: Actor,
    *,
    raw: bytes | None = None,
    failure: Problem | None = None,
    each_apart: bool = False,
) -> list[PaymentOrder]:
    with transaction.atomic():
        incoming = IncomingFile.objects.select_for_update().defer("raw").get(pk=file_id)
        if incoming.split_at is not None:
            return list(incoming.orders.order_by("position"))
        if failure is None:
            parsed = parse_file(bytes(incoming.raw) if raw is None else raw, incoming.file_name)
        else:
            parsed = ParsedFile(encoding="", errors=[failure])
        incoming.encoding = _clip(parsed.encoding, 20)
        incoming.split_at = timezone.now()
        incoming.save(update_fields=["encoding", "split_at"])
        if each_apart and parsed.orders:
            orders = [_write_apart(incoming, order, position) for position, order in enumerate(parsed.orders, 1)]
        else:
            orders = _write_orders(incoming, parsed)
        audit_record(
            actor=actor,
            action="orders.intake",
            obj=incoming,
            data={
                "door": incoming.door,
                "orders": len(orders),
                "sha256": incoming.sha256,
                "received": incoming.received.isoformat(),
            },
        )
    return orders


def _write_apart(incoming: IncomingFile, order: ParsedOrder, position: int) -> PaymentOrder:
    """One order in a savepoint of its own; if the database refuses it, the order is stored
    without its lines (what of its header fits the columns), needing review, naming the error."""
    try:
        with transaction.atomic():
            (written,) = _write_orders(incoming, ParsedFile(encoding=incoming.encoding, orders=[order]), start=position)
            return written
    except OperationalError:
        raise
    except Exception as exc:
        logger.exception("order %s of payment order file %s could not be stored as read", position, incoming.pk)
        problem = Problem(
            order.first_line,
            gettext_noop("the order could not be stored as read (%(error)s): a staff member must review it"),
            error=type(exc).__name__,
        )
        fields = _order_fields(order)
        fields.pop("lines_total")
        fields["amount_lines"] = Decimal("0")
        if fields["total"] is not None and abs(fields["total"]) >= _AMOUNT_LIMIT:
            fields["total"] = None
        deadline, deadline_errors = _deadline(incoming.received)
        return PaymentOrder.objects.create(
            file=incoming,
            position=position,
            received=incoming.received,
            deadline=deadline,
            status=OrderStatus.NEEDS_REVIEW,
            is_original=False,
            errors=stored([problem, *deadline_errors]),
            **fields,
        )


def _write_orders(incoming: IncomingFile, parsed: ParsedFile, *, start: int = 1) -> list[PaymentOrder]:
    """One ``PaymentOrder`` per message, with its final status when it is settled here
    (a duplicate, an order wrong as a whole, a conflict), and its lines."""
    now = timezone.now()
    received = incoming.received
    deadline, deadline_errors = _deadline(received)
    if not parsed.orders:
        errors = list(parsed.errors) or [Problem(0, gettext_noop("the file holds no payment order"))]
        unread = PaymentOrder.objects.create(
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
        return [unread]
    knp = set(purpose_kinds(received))
    problems_of = [order_problems(order, known_knp=knp, received=received) for order in parsed.orders]
    # Only an order that is right as a whole claims its key: one that needs review (its key may be
    # cut, garbled or someone else's) neither blocks the order it names nor makes the payer's
    # corrected order a duplicate.
    for order, problems in zip(parsed.orders, problems_of, strict=True):
        problems.extend(_storage_problems(order))
    keys = [None if problems else order_key(p) for p, problems in zip(parsed.orders, problems_of, strict=True)]
    lock_payers({p.payer_idn for p, key in zip(parsed.orders, keys, strict=True) if key is not None})
    existing = existing_originals([k for k in keys if k is not None])
    first_in_file: dict[str, tuple[int, str]] = {}  # key -> (index in originals, checksum)
    originals: list[tuple[ParsedOrder, PaymentOrder]] = []
    duplicates: list[tuple[int, PaymentOrder]] = []  # (index of the first in this file or -1, order)
    for index, order in enumerate(parsed.orders):
        position = start + index
        key, problems = keys[index], list(problems_of[index])
        checksum = content_checksum(order, key)
        fields = _order_fields(order)
        if key is not None and (key in existing or key in first_in_file):
            first_id, first_checksum = existing.get(key) or (None, first_in_file[key][1])
            if checksum == first_checksum:
                duplicate = PaymentOrder(
                    file=incoming,
                    position=position,
                    received=received,
                    deadline=deadline,
                    status=OrderStatus.DUPLICATE,
                    created_at=now,  # before finished_at: a duplicate takes no time
                    is_original=False,
                    key=key,
                    content_sha256=checksum,
                    duplicate_of_id=first_id,  # or the first in this file, once saved
                    finished_at=now,
                    **fields,
                )
                duplicates.append((first_in_file[key][0] if key in first_in_file else -1, duplicate))
                continue
            problems.append(conflict(order, first_id, first_in_file, key, originals))
            key = None
        status = OrderStatus.NEEDS_REVIEW if problems else OrderStatus.RECEIVED
        original = PaymentOrder(
            file=incoming,
            position=position,
            received=received,
            deadline=deadline,
            status=status,
            created_at=now,
            is_original=key is not None,
            key=key or "",
            content_sha256=checksum,
            errors=stored(problems + deadline_errors),
            **fields,
        )
        if key is not None:
            first_in_file[key] = (len(originals), checksum)
        originals.append((order, original))
    PaymentOrder.objects.bulk_create([o for _, o in originals])
    for index, duplicate in duplicates:
        if index >= 0:
            duplicate.duplicate_of_id = originals[index][1].pk
    PaymentOrder.objects.bulk_create([d for _, d in duplicates])
    _copy_lines([_line_row(saved.pk, line) for parsed_order, saved in originals for line in parsed_order.lines])
    return sorted([o for _, o in originals] + [d for _, d in duplicates], key=lambda o: o.position)


def _storage_problems(order: ParsedOrder) -> list[Problem]:
    """What of a readable order the columns cannot hold: the lines' sum, or a key that Unicode
    normalisation lengthened (``ﬃ`` becomes ``FFI``). Such an order needs review, stored whole."""
    problems = []
    total = sum((ln.amount for ln in order.lines if ln.amount is not None), Decimal("0"))
    if abs(total) >= _AMOUNT_LIMIT:
        problems.append(
            Problem(
                order.first_line,
                gettext_noop("the lines add up to more than an order can hold (%(limit)s)"),
                limit=Amount(_AMOUNT_LIMIT),
            )
        )
    key = order_key(order)
    if key is not None and len(key) > _KEY_LENGTH:
        problems.append(
            Problem(order.first_line, gettext_noop("the reference and number cannot be read as the order's key"))
        )
    return problems


def sweep_files(*, actor: Actor, older_than: timedelta = timedelta(seconds=60)) -> int:
    """Split stored files left unsplit (the process or the database went away between storing
    and splitting); run by beat after the order sweep. A file that fails again is logged and
    left for the next sweep; it never stops the others. Returns how many were split."""
    cutoff = timezone.now() - older_than
    waiting = IncomingFile.objects.filter(split_at__isnull=True, created_at__lt=cutoff).order_by("pk")
    split = 0
    for file_id in waiting.values_list("pk", flat=True)[:100]:
        try:
            if split_file(file_id=file_id, actor=actor):
                split += 1
        except Exception:
            logger.exception("payment order file %s could not be split by the sweeper", file_id)
    return split
