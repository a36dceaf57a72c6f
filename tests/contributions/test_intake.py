"""Intake as an inbox (contributions.services.intake): the bytes are committed before anything
is derived from them, any later failure leaves the file with an order that needs review, and
duplicates are told from conflicts by a normalised key and a content checksum."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import psycopg.errors
import pytest
from django.db import OperationalError, connection, transaction

from contributions.models import IncomingFile, LedgerEntry, OrderStatus, PaymentOrder
from contributions.problems import word
from contributions.services import intake_file, process_order, split_file, sweep_files
from contributions.services.intake import store_file
from records.models import AuditEvent, Participant
from records.services import Actor
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")


def problems(order: PaymentOrder) -> list[str]:
    return [word(entry, translate=False) for entry in order.errors]


@pytest.mark.parametrize(
    "failure",
    [psycopg.errors.UniqueViolation("duplicate key value"), RuntimeError("boom"), MemoryError()],
    ids=["psycopg-unique-violation", "runtime-error", "memory-error"],
)
def test_any_failure_while_splitting_keeps_the_file_with_an_order_that_needs_review(
    people, monkeypatch, failure
) -> None:
    """The cause of the lost files: the line COPY's psycopg ``UniqueViolation`` is no Django
    ``IntegrityError``, and the raw file shared the rolled-back transaction."""
    import contributions.services.intake as intake

    def failing(rows) -> None:
        raise failure

    monkeypatch.setattr(intake, "_copy_lines", failing)
    raw = order_text([line_for(people[1])]).encode()
    result = intake_file(raw=raw, file_name="o.mt102", door="api", actor=ACTOR, received=date(2023, 11, 24))
    stored = IncomingFile.objects.get(pk=result.file.pk)
    assert bytes(stored.raw) == raw
    assert stored.split_at is not None
    (order,) = PaymentOrder.objects.filter(file=stored)
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert problems(order) == [
        f"line 1: the order could not be stored as read ({type(failure).__name__}): a staff member must review it"
    ]
    assert (order.reference, order.payer_idn) == ("SO231124000009", "150540012348")  # the header is kept
    assert AuditEvent.objects.filter(action="orders.intake", object_pk=str(stored.pk)).exists()


def test_when_even_one_order_at_a_time_fails_the_file_gets_one_order_for_review(people, monkeypatch) -> None:
    import contributions.services.intake as intake

    def failing(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(intake, "_copy_lines", failing)
    monkeypatch.setattr(intake, "_write_apart", failing)
    raw = order_text([line_for(people[1])]).encode()
    result = intake_file(raw=raw, file_name="o.mt102", door="api", actor=ACTOR, received=date(2023, 11, 24))
    (order,) = result.orders
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert problems(order) == ["the file could not be taken in as read (RuntimeError): a staff member must review it"]
    assert bytes(IncomingFile.objects.get(pk=result.file.pk).raw) == raw


def test_the_bytes_are_committed_before_the_split_begins(people, monkeypatch) -> None:
    """Should even the fallback fail (the database went away), the stored file is still there,
    unsplit, and the sweeper splits it later; splitting twice changes nothing."""
    import contributions.services.intake as intake

    def failing(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(intake, "_split", failing)
    raw = order_text([line_for(people[2])]).encode()
    with pytest.raises(RuntimeError):
        intake_file(raw=raw, file_name="o.mt102", door="command", actor=ACTOR, received=date(2023, 11, 24))
    stored = IncomingFile.objects.get()
    assert (bytes(stored.raw), stored.split_at) == (raw, None)
    monkeypatch.undo()
    assert sweep_files(actor=ACTOR) == 0  # not yet: it may still be in hand
    IncomingFile.objects.filter(pk=stored.pk).update(created_at=stored.created_at - timedelta(minutes=5))
    assert sweep_files(actor=ACTOR) == 1
    (order,) = PaymentOrder.objects.filter(file=stored)
    assert order.status == OrderStatus.RECEIVED
    assert split_file(file_id=stored.pk, actor=ACTOR) == [order]
    assert PaymentOrder.objects.filter(file=stored).count() == 1
    assert sweep_files(actor=ACTOR) == 0


def test_store_file_alone_writes_no_order(people) -> None:
    stored = store_file(raw=b"x", file_name="x.csv", door="upload", actor=ACTOR, received=date(2023, 11, 24))
    assert (stored.split_at, stored.orders.count(), stored.sha256[:8]) == (None, 0, "2d711642")


def test_the_same_order_again_is_a_duplicate(people) -> None:
    text = order_text([line_for(people[3])], reference="DUP1", number="0777")
    (first,) = take_in(text)
    (again,) = take_in(text)
    assert (first.status, again.status, again.duplicate_of_id) == (OrderStatus.POSTED, OrderStatus.DUPLICATE, first.pk)
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("reference", "number"),
    [("dup2", "0777"), ("DUP2", "777"), (" dup2 ", "00777"), ("Dup2", "777 ")],
    ids=["lowercase-reference", "no-leading-zero", "spaces-and-zeros", "mixed-case-trailing-space"],
)
def test_the_key_is_normalised_before_comparison(people, reference: str, number: str) -> None:
    """``0777`` and ``777``, or a lowercase reference, must not post the same money twice."""
    (first,) = take_in(order_text([line_for(people[4])], reference="DUP2", number="0777"))
    (again,) = take_in(order_text([line_for(people[4])], reference=reference, number=number))
    assert again.status == OrderStatus.DUPLICATE, problems(again)
    assert again.duplicate_of_id == first.pk
    assert LedgerEntry.objects.count() == 1


def test_the_same_key_with_other_contents_is_a_conflict_for_review(people) -> None:
    (first,) = take_in(order_text([line_for(people[5])], reference="DUP3", number="1"))
    (other,) = take_in(order_text([line_for(people[5], amount="8000,00")], reference="DUP3", number="1"))
    assert other.status == OrderStatus.NEEDS_REVIEW
    assert other.duplicate_of_id is None
    assert not other.is_original
    assert any(f"payment order {first.pk} has the same payer, reference" in p for p in problems(other))
    assert LedgerEntry.objects.filter(order=other).count() == 0


def test_a_conflict_inside_one_file_names_the_first_order(people) -> None:
    first = order_text([line_for(people[6])], reference="DUP4", number="1")
    second = order_text([line_for(people[6], amount="1,00")], reference="DUP4", number="1")
    orders = take_in(first + second)
    assert [o.status for o in orders] == [OrderStatus.POSTED, OrderStatus.NEEDS_REVIEW]
    assert any("the order at line 1 of this file has the same payer" in p for p in problems(orders[1]))


def test_an_order_held_for_review_by_the_worker_releases_its_key(people) -> None:
    """The worker sends an order to review when its passing lines would post more than it paid;
    the payer's corrected order with the same key is then taken, not refused as a duplicate."""
    lines = [line_for(people[7], amount="9000,00"), line_for(people[8], amount="-2000,00")]
    (held,) = take_in(order_text(lines, reference="HOLD", number="5", total="7000,00"))
    assert held.status == OrderStatus.NEEDS_REVIEW
    assert not held.is_original
    (corrected,) = take_in(order_text([line_for(people[7])], reference="HOLD", number="5"))
    assert corrected.status == OrderStatus.POSTED


def test_participants_created_by_the_pipeline_get_the_creation_audit_event(people) -> None:
    (order,) = take_in(order_text([line_for(people[9]), line_for(people[10])], reference="AUD", number="1"))
    created = Participant.objects.filter(iin__in=[people[9].iin, people[10].iin])
    assert created.count() == 2
    events = AuditEvent.objects.filter(action="participant.create", object_pk__in=[str(p.pk) for p in created])
    assert events.count() == 2
    assert {e.data["source"] for e in events} == {f"state registry, checked for payment order {order.pk}"}
    assert {e.actor_label for e in events} == {"test"}


def test_a_service_called_without_its_actor_is_refused(people) -> None:
    with pytest.raises(TypeError, match="actor"):
        process_order(order_id=1)  # type: ignore[call-arg]


def test_json_is_detected_by_content_at_every_door(people) -> None:
    body = (
        '{"reference": "J1", "number": "1", "document_date": "2023-11-24",'
        ' "payer": {"idn": "150540012348", "name": "ТОО", "account": "KZ699990000000000001"},'
        ' "payee": {"idn": "160440007161", "bic": "GCVPKZ2A", "account": "KZ429990000000000002"},'
        ' "knp": "012", "total": "7000.00", "value_date": "2023-11-24",'
        f' "lines": [{{"iin": "{people[11].iin}", "last_name": "{people[11].last_name}",'
        f' "first_name": "{people[11].first_name}", "patronymic": "{people[11].patronymic}",'
        f' "birth_date": "{people[11].birth_date.isoformat()}", "period": "2023-10", "amount": "7000.00"}}]}}'
    )
    (order,) = take_in(body, name="upload-without-extension")
    assert order.status == OrderStatus.POSTED, problems(order)
    (broken,) = take_in('{"reference": ', name="x.json")
    assert broken.status == OrderStatus.NEEDS_REVIEW
    assert problems(broken)[0].startswith("line 1: not valid JSON")


def test_an_order_the_database_refuses_does_not_take_its_file_down(people, head_of_service, monkeypatch) -> None:
    """The whole file is written again order by order: the good order goes on, the refused one
    is stored without its lines (its total kept) for review, and can be returned in full."""
    import contributions.services.intake as intake
    from contributions.services import order_resolve_review

    real = intake._copy_lines
    marker = people[13].iin

    def refusing(rows) -> None:
        if any(row[3] == marker for row in rows):
            raise psycopg.errors.DataError("value refused")
        real(rows)

    monkeypatch.setattr(intake, "_copy_lines", refusing)
    good = order_text([line_for(people[12])], reference="GOOD1", number="1")
    bad = order_text([line_for(people[13])], reference="BAD1", number="2")
    first, second = take_in(good + bad)
    assert (first.status, first.lines_posted) == (OrderStatus.POSTED, 1)
    assert second.status == OrderStatus.NEEDS_REVIEW
    assert second.reference == "BAD1"
    assert second.total == Decimal("7000.00")
    assert second.lines.count() == 0
    assert problems(second) == [
        f"line {second.first_line}: the order could not be stored as read (DataError): a staff member must review it"
    ]
    returned = order_resolve_review(order_id=second.pk, actor=head_of_service, note="Не читается")
    assert returned.return_document.total == Decimal("7000.00")  # the money can go back


def test_sums_and_keys_the_columns_cannot_hold_send_only_their_order_to_review(people) -> None:
    huge = [line_for(people[14], amount="9999999999999,00") for _ in range(12)]
    good = order_text([line_for(people[15])], reference="GOOD2", number="3")
    orders = take_in(
        order_text(huge, reference="HUGE", number="4", total="119999999999988,00")
        + order_text([line_for(people[16])], reference="ﬃ" * 30, number="5")
        + good
    )
    assert [o.status for o in orders] == [OrderStatus.NEEDS_REVIEW, OrderStatus.NEEDS_REVIEW, OrderStatus.POSTED]
    assert any("the lines add up to more than an order can hold" in p for p in problems(orders[0]))
    assert any("cannot be read as the order's key" in p for p in problems(orders[1]))
    assert orders[0].lines.count() == 12  # stored whole, for review


def test_while_the_database_is_unavailable_the_file_waits_unsplit(people, monkeypatch) -> None:
    import contributions.services.intake as intake

    def unavailable(*args, **kwargs):
        raise OperationalError("the database system is starting up")

    monkeypatch.setattr(intake, "_split", unavailable)
    result = intake_file(
        raw=order_text([line_for(people[17])]).encode(), file_name="o.mt102", door="api", actor=ACTOR,
        received=date(2023, 11, 24),
    )  # fmt: skip
    assert result.orders == []
    assert IncomingFile.objects.get(pk=result.file.pk).split_at is None


def test_intake_refuses_to_run_inside_another_transaction(people) -> None:
    """Inside a caller's transaction the bytes would not be committed first: refused, loudly."""
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        intake_file(raw=b"x", file_name="x.csv", door="api", actor=ACTOR, received=date(2023, 11, 24))


def _other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


@pytest.mark.django_db(transaction=True)
def test_the_stored_bytes_are_visible_to_others_before_the_split_begins(people, monkeypatch) -> None:
    """Really committed (not a savepoint): another connection sees the file while it is parsed."""
    import contributions.services.intake as intake

    seen: list[tuple[object, ...] | None] = []
    from contributions.parsers.detect import parse_file as real

    def parse_and_look(raw: bytes, name: str):
        with _other_connection() as other:
            seen.append(other.execute("SELECT size, split_at FROM contributions_incomingfile").fetchone())
        return real(raw, name)

    monkeypatch.setattr(intake, "parse_file", parse_and_look)
    raw = order_text([line_for(people[18])]).encode()
    intake_file(raw=raw, file_name="o.mt102", door="api", actor=ACTOR, received=date(2023, 11, 24), enqueue=False)
    assert seen == [(len(raw), None)]


@pytest.mark.django_db(transaction=True)
def test_the_same_order_in_two_files_at_once_has_one_original(people) -> None:
    """Two doors take in the same order at the same moment: the per-payer lock and the unique key
    make exactly one the original and the other its duplicate, nothing sent to the fallback."""
    raw = order_text([line_for(people[19])], reference="RACE", number="1").encode()
    start = threading.Barrier(2)
    results: list[list[str]] = []

    def door() -> None:
        try:
            start.wait()
            result = intake_file(
                raw=raw, file_name="o.mt102", door="api", actor=ACTOR, received=date(2023, 11, 24), enqueue=False
            )
            results.append([o.status for o in result.orders])
        finally:
            connection.close()

    threads = [threading.Thread(target=door) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for statuses in results for status in statuses) == [
        OrderStatus.DUPLICATE,
        OrderStatus.RECEIVED,
    ]
    assert PaymentOrder.objects.filter(is_original=True, reference="RACE").count() == 1
