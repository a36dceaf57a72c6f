"""Tests that kill the survivors of the mutation run over the inbox (``contributions.services.intake``:
store the raw file first, then split it into orders and lines; docs/testing.md, docs/intake.md)."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, timedelta
from decimal import Decimal

import psycopg.errors
import pytest
from django.db import connection
from django.utils import timezone

from contributions.models import IncomingFile, OrderStatus, PaymentOrder
from contributions.problems import word
from contributions.services import intake_file, split_file, sweep_files
from contributions.services.intake import store_file
from records.models import AuditEvent
from records.services import Actor
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")
RECEIVED = date(2023, 11, 24)


def problems(order: PaymentOrder) -> list[str]:
    return [word(entry, translate=False) for entry in order.errors]


def test_the_limit_of_the_sum_of_lines_is_what_the_database_column_holds() -> None:
    """Intake sends an order whose lines add up to more than ``amount_lines`` holds to review,
    stored whole; the limit it checks against must be the one PostgreSQL enforces, or such an
    order fails to store and reaches staff without its lines, for a reason they cannot act on."""
    from contributions.services.intake import _column_limit

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT numeric_precision, numeric_scale FROM information_schema.columns"
            " WHERE table_name = 'contributions_paymentorder' AND column_name = 'amount_lines'"
        )
        ((precision, scale),) = cursor.fetchall()
    assert _column_limit("amount_lines") == Decimal(10) ** (precision - scale)


@pytest.mark.parametrize(
    ("last_cents", "over_the_limit"), [("0,09", False), ("0,10", True)], ids=["just-below", "exactly-at"]
)
def test_lines_adding_up_to_the_column_limit_send_the_order_to_review_stored_whole(
    people, last_cents: str, over_the_limit: bool
) -> None:
    """Ten lines of 9 999 999 999 999,99 and one of a few cents: just below 10^14 the sum of the
    lines is stored for staff to see, from 10^14 on the column cannot hold it and the order says
    so. The lines are kept either way (no total a parser accepts, 13 digits at most, can match
    such lines, so the order needs review in both cases)."""
    lines = [line_for(people[1], amount="9999999999999,99") for _ in range(10)]
    lines.append(line_for(people[2], amount=last_cents))
    (order,) = take_in(order_text(lines, reference="LIMIT", number="1", total="1,00"), process=False)
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert order.lines.count() == 11
    limit_problem = f"line {order.first_line}: the lines add up to more than an order can hold (100000000000000.00)"
    assert (limit_problem in problems(order)) is over_the_limit, problems(order)
    assert not any("could not be stored" in p for p in problems(order))
    assert order.amount_lines == (Decimal("0") if over_the_limit else Decimal("99999999999999.99"))


def test_line_values_longer_than_their_columns_are_stored_cut_for_review(people) -> None:
    """An IIN or a name longer than its column makes the order need review (``order_problems``);
    the reviewer must still see its lines, stored cut to the column, not an order without lines
    refused by the database."""
    long_line = line_for(
        people[3], iin="1" * 45, last_name="Ф" * 210, first_name="И" * 210, patronymic="О" * 210, amount="7000,00"
    )
    (order,) = take_in(order_text([long_line], reference="LONG", number="1"), process=False)
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert not any("could not be stored" in p for p in problems(order)), problems(order)
    (line,) = order.lines.all()
    assert (line.iin, line.last_name, line.first_name, line.patronymic) == ("1" * 40, "Ф" * 200, "И" * 200, "О" * 200)


def test_order_values_longer_than_their_columns_are_stored_cut_for_review(people) -> None:
    """The same for the order's own fields: a number, payer name or bank code, payee BIN, bank,
    account or a KNP longer than its column sends the order to review stored whole, each value
    cut to its column, with its lines and the problems that name what is wrong, not refused by
    the database."""
    text = order_text(
        [line_for(people[6])], reference="HEAD", number="N" * 40, payer_name="П" * 210,
        payee_idn="1" * 15, payee_bic="B" * 15, knp="01234",
    ).replace(":52B:XXXXKZKA", ":52B:" + "C" * 15).replace(":59:KZ429990000000000002", ":59:KZ" + "4" * 38)  # fmt: skip
    (order,) = take_in(text, process=False)
    assert order.status == OrderStatus.NEEDS_REVIEW
    stored = (order.number, order.payer_name, order.payer_bic, order.payee_idn, order.payee_bic, order.payee_account)
    assert stored == ("N" * 35, "П" * 200, "C" * 11, "1" * 12, "B" * 11, "KZ" + "4" * 32)
    assert order.knp == "012"
    assert order.lines.count() == 1
    assert f"line {order.first_line}: the order number is longer than 35 characters" in problems(order)
    assert not any("could not be" in p for p in problems(order)), problems(order)


def test_an_order_the_database_refuses_keeps_its_place_and_deadline_and_the_next_one_its_own(
    people, monkeypatch
) -> None:
    """Written again order by order, a file keeps its orders in file order (the second stays the
    second), and the refused order, stored without its lines for review, still has the deadline
    by which its money must be returned, even when its total could not be read."""
    import contributions.services.intake as intake

    real = intake._copy_lines
    marker = people[4].iin

    def refusing(rows) -> None:
        if any(row[3] == marker for row in rows):
            raise psycopg.errors.DataError("value refused")
        real(rows)

    monkeypatch.setattr(intake, "_copy_lines", refusing)
    refused = order_text([line_for(people[4])], reference="BAD", number="1", total="7000,0,0")
    good = order_text([line_for(people[5])], reference="GOOD", number="2")
    first, second = take_in(refused + good)
    assert [(o.position, o.reference) for o in (first, second)] == [(1, "BAD"), (2, "GOOD")]
    assert (first.status, first.total, first.lines.count()) == (OrderStatus.NEEDS_REVIEW, None, 0)
    assert problems(first) == [
        f"line {first.first_line}: the order could not be stored as read (DataError): a staff member must review it"
    ]
    assert second.status == OrderStatus.POSTED, problems(second)
    assert first.deadline is not None
    assert first.deadline == second.deadline


def test_one_sweep_splits_at_most_a_hundred_files_and_counts_them(people) -> None:
    """The beat sweep reports how many files it split (``files_split``), at most 100 a run so a
    backlog cannot hold the beat task for long; the rest wait for the next run."""
    for n in range(101):
        store_file(raw=b"", file_name=f"f{n}.csv", door="command", actor=ACTOR, received=date(2023, 11, 24))
    IncomingFile.objects.update(created_at=timezone.now() - timedelta(minutes=5))  # left unsplit
    assert sweep_files(actor=ACTOR) == 100
    assert IncomingFile.objects.filter(split_at__isnull=True).count() == 1
    assert sweep_files(actor=ACTOR) == 1
    assert sweep_files(actor=ACTOR) == 0
    assert PaymentOrder.objects.filter(status=OrderStatus.NEEDS_REVIEW).count() == 101


@pytest.mark.parametrize(("letters", "fits"), [("AB", True), ("ABC", False)], ids=["100-characters", "101-characters"])
def test_a_key_that_normalisation_lengthens_fits_up_to_its_column(people, letters: str, fits: bool) -> None:
    """``ﬃ`` becomes ``FFI`` in the key: a key of exactly 100 characters (the column) is stored
    and the order goes on; one character more and the order needs review, saying why, rather than
    being stored with a key cut short (which could name another order)."""
    reference = "ﬃ" * 24 + letters  # 72 + 2 or 3 characters once normalised, 26 or 27 as sent
    (order,) = take_in(order_text([line_for(people[7])], reference=reference, number="1"), process=False)
    if fits:
        assert order.status == OrderStatus.RECEIVED, problems(order)
        assert (len(order.key), order.is_original) == (100, True)
    else:
        assert order.status == OrderStatus.NEEDS_REVIEW
        assert problems(order) == [
            f"line {order.first_line}: the reference and number cannot be read as the order's key"
        ]
        assert (order.key, order.is_original) == ("", False)


def test_the_intake_audit_event_names_the_door_the_orders_the_checksum_and_the_receipt_date(people) -> None:
    """The auditor reads from the ``orders.intake`` event which door a file came through, how many
    orders it held, which bytes they were (SHA-256) and the receipt date their deadlines run from."""
    raw = (
        order_text([line_for(people[8])], reference="AUDIT", number="1")
        + order_text([line_for(people[9])], reference="AUDIT", number="2")
    ).encode()
    orders = take_in(raw, door="api", process=False)
    event = AuditEvent.objects.get(action="orders.intake", object_pk=str(orders[0].file_id))
    assert event.data == {
        "door": "api", "orders": 2, "sha256": hashlib.sha256(raw).hexdigest(), "received": "2023-11-24",
    }  # fmt: skip


def test_a_file_that_could_not_be_taken_in_shows_no_encoding(people, monkeypatch) -> None:
    """When even order by order fails, nothing was taken from the file as read: the file list
    (admin) shows no encoding for it, and its one order for review says why."""
    import contributions.services.intake as intake

    def failing(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(intake, "_copy_lines", failing)
    monkeypatch.setattr(intake, "_write_apart", failing)
    (order,) = take_in(order_text([line_for(people[10])], reference="ENC", number="1"), process=False)
    assert problems(order) == ["the file could not be taken in as read (RuntimeError): a staff member must review it"]
    assert IncomingFile.objects.get(pk=order.file_id).encoding == ""


def test_a_file_without_an_order_gets_one_order_for_review_where_the_reader_stopped(people) -> None:
    """Staff see a file that holds no order (or cannot be read at all) as one order that needs
    review: message 1 of the file, at the line the reader stopped (none for a list without rows),
    with the deadline by which the payer must hear back and the reason in plain words."""
    header_only = (
        b"reference,number,document_date,value_date,payer_idn,payer_name,knp,total,"
        b"iin,last_name,first_name,patronymic,birth_date,period,amount\n"
    )
    (empty,) = take_in(header_only, name="empty.csv")
    assert (empty.status, empty.position, empty.first_line) == (OrderStatus.NEEDS_REVIEW, 1, 0)
    assert problems(empty) == ["the file holds no payment order"]
    (broken,) = take_in(b'{\n"reference": ', name="broken.json")
    assert (broken.position, broken.first_line) == (1, 2)
    assert problems(broken)[0].startswith("line 2: not valid JSON")
    (order,) = take_in(order_text([line_for(people[11])], reference="DEADLINE", number="1"), process=False)
    assert empty.deadline is not None
    assert empty.deadline == broken.deadline == order.deadline


def test_the_same_order_twice_in_one_file_is_a_duplicate_and_the_file_goes_on(people, caplog) -> None:
    """The second copy in a file is a duplicate of the first (it holds the same header, key,
    checksum and deadline, and was finished the moment it was taken in); the orders after it are
    taken in as usual, each at its place in the file, in one go: a repeated order is no failure
    to log as an error (the fallback order by order) for the operators to chase."""
    same = order_text([line_for(people[12])], reference="TWICE", number="1")
    other = order_text([line_for(people[13])], reference="AFTER", number="2")
    with caplog.at_level(logging.ERROR, logger="contributions.services.intake"):
        first, again, after = take_in(same + same + other, process=False)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [o.position for o in (first, again, after)] == [1, 2, 3]
    assert (first.status, again.status, after.status) == (
        OrderStatus.RECEIVED,
        OrderStatus.DUPLICATE,
        OrderStatus.RECEIVED,
    )
    assert again.duplicate_of_id == first.pk
    header = ("reference", "number", "payer_idn", "payer_name", "total", "lines_total", "key", "content_sha256")
    assert [getattr(again, name) for name in header] == [getattr(first, name) for name in header]
    assert again.key
    assert again.deadline == first.deadline is not None
    assert again.finished_at == again.created_at
    assert first.created_at == again.created_at == after.created_at  # one file, one moment


def test_a_document_dated_after_the_receipt_date_given_at_the_door_needs_review(people) -> None:
    """The receipt date is the one given at the door (here 2023-11-24), not today: an order dated
    the day after it cannot have been paid by then and goes to review."""
    text = order_text([line_for(people[14])], reference="LATER", number="1", document_date=date(2023, 11, 25))
    (order,) = take_in(text, process=False)
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert any("is after the receipt date" in p for p in problems(order)), problems(order)


def test_intake_waits_while_another_intake_of_the_same_payer_holds_its_lock(people) -> None:
    """Intakes of one payer are serialised (``lock_payers``), so two files with the same order
    cannot both make it an original. While another session holds the payer's lock, this intake
    cannot go on: given up after the lock timeout, its file stays stored and unsplit for the sweeper."""
    import psycopg

    text = order_text([line_for(people[15])], reference="LOCKED", number="1")
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", [f"payer:{PAYER}"])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        try:
            result = intake_file(
                raw=text.encode(), file_name="o.mt102", door="api", actor=ACTOR, received=date(2023, 11, 24)
            )
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    assert result.orders == []
    assert IncomingFile.objects.get(pk=result.file.pk).split_at is None


def test_a_file_split_by_the_sweeper_hands_its_open_orders_to_the_workers(
    people, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """A file left unsplit is split by the sweeper, and its open orders are then queued for the
    workers like those of any door, not left waiting for the order sweep."""
    import contributions.services.intake as intake

    queued: list[list[int]] = []
    monkeypatch.setattr(intake, "enqueue_orders", queued.append)
    raw = order_text([line_for(people[16])], reference="SWEPT", number="1").encode()
    stored = store_file(raw=raw, file_name="o.mt102", door="api", actor=ACTOR, received=date(2023, 11, 24))
    IncomingFile.objects.filter(pk=stored.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_files(actor=ACTOR) == 1
    (order,) = PaymentOrder.objects.filter(file=stored)
    assert queued == [[order.pk]]


def test_only_the_open_orders_of_a_file_are_queued_once_and_only_when_the_door_asks(
    people, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """The workers get the orders still open after intake (not those already settled, here one
    that needs review), once: a file split again returns its orders without queueing them anew;
    a door that processes its orders itself (``enqueue=False``) queues nothing."""
    import contributions.services.intake as intake

    queued: list[list[int]] = []

    def enqueue(order_ids: list[int]) -> int:
        queued.append(order_ids)
        return PaymentOrder.objects.filter(pk__in=order_ids).update(queued_at=timezone.now())

    monkeypatch.setattr(intake, "enqueue_orders", enqueue)
    raw = (
        order_text([line_for(people[17])], reference="OPEN", number="1")
        + order_text([line_for(people[18])], reference="WRONG", number="2", knp="999")
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        result = intake_file(raw=raw, file_name="o.mt102", door="api", actor=ACTOR, received=date(2023, 11, 24))
    open_order, wrong = result.orders
    assert (open_order.status, wrong.status) == (OrderStatus.RECEIVED, OrderStatus.NEEDS_REVIEW)
    assert queued == [[open_order.pk]]
    with django_capture_on_commit_callbacks(execute=True):
        assert split_file(file_id=result.file.pk, actor=ACTOR) == [open_order, wrong]
    assert queued == [[open_order.pk]]
    other = order_text([line_for(people[19])], reference="SELF", number="3").encode()
    with django_capture_on_commit_callbacks(execute=True):
        intake_file(
            raw=other, file_name="o.mt102", door="command", actor=ACTOR, received=date(2023, 11, 24), enqueue=False
        )
    assert queued == [[open_order.pk]]


def test_the_stored_file_records_who_sent_it_and_a_name_cut_to_its_column(people, specialist) -> None:
    """The inbox row says who sent what: the sender (the user and the name shown for him) and the
    file name as sent, cut to its column when a client sends a longer one, never refused (the
    bytes must be kept whatever their name)."""
    long_name = "а" * 300 + ".mt102"
    raw = order_text([line_for(people[20])], reference="WHO", number="1").encode()
    result = intake_file(raw=raw, file_name=long_name, door="upload", actor=Actor.of(specialist), received=RECEIVED)
    stored = IncomingFile.objects.get(pk=result.file.pk)
    assert (stored.submitted_by, stored.submitted_label) == (specialist, specialist.username)
    assert stored.file_name == long_name[:255]
    assert bytes(stored.raw) == raw
