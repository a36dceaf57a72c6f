"""The pipeline (conventions: "Incoming payment orders"): every outcome and every return reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from contributions.models import (
    EntryKind,
    IncomingFile,
    LedgerEntry,
    OrderLine,
    OrderStatus,
    PaymentOrder,
    ReturnDocument,
)
from contributions.problems import word
from contributions.services import intake_file, process_order
from records.models import Participant, PersonalDataChange
from records.services import Actor
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")


def problems(order: PaymentOrder) -> list[str]:
    """The order's stored problems in English, each naming its line."""
    return [word(entry, translate=False) for entry in order.errors]


def reasons(order: PaymentOrder) -> dict[int, str]:
    return dict(order.lines.values_list("sequence", "reason"))


def test_a_clean_order_is_posted_whole(people) -> None:
    (order,) = take_in(order_text([line_for(p) for p in people[1:6]]))
    assert order.status == OrderStatus.POSTED
    assert (order.lines_total, order.lines_posted, order.lines_returned) == (5, 5, 0)
    assert order.amount_posted == Decimal("35000.00")
    entries = LedgerEntry.objects.filter(order=order)
    assert entries.count() == 5
    assert {e.kind for e in entries} == {EntryKind.CONTRIBUTION}
    assert {e.period for e in entries} == {date(2023, 10, 1)}
    assert all(e.payer_idn == PAYER and e.received == date(2023, 11, 24) for e in entries)
    # Participants were created from the registry.
    created = Participant.objects.get(iin=people[1].iin)
    assert (created.last_name, created.birth_date) == (people[1].last_name, people[1].birth_date)
    assert not ReturnDocument.objects.exists()
    # Deadline: received Fri 2023-11-24 -> end of Mon 2023-11-27, Almaty.
    assert order.deadline is not None
    assert timezone.localtime(order.deadline).isoformat().startswith("2023-11-27T23:59:59")
    assert order.finished_at is not None


def test_knp_017_posts_penalty_entries(people) -> None:
    (order,) = take_in(order_text([line_for(people[2], amount="12,37")], knp="017"))
    assert order.status == OrderStatus.POSTED
    assert LedgerEntry.objects.get(order=order).kind == EntryKind.PENALTY


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iin": "791028302727"}, "invalid_iin"),
        ({"iin": "79102830272"}, "invalid_iin"),
        ({"iin": "850615300012"}, "unknown_iin"),
        ({"last_name": "ДРУГОЙ"}, "name_mismatch"),
        ({"first_name": "ДРУГОЙ"}, "name_mismatch"),
        ({"patronymic": "ДРУГОВИЧ"}, "name_mismatch"),
        ({"birth_date": date(1950, 1, 2)}, "birth_date_mismatch"),
        ({"amount": "0,00"}, "invalid_amount"),
        ({"period": "132023"}, "invalid_period"),
        ({"period": ""}, "invalid_period"),
    ],
)
def test_each_line_check_returns_its_reason(people, changes, reason) -> None:
    good, bad = people[3], people[4]
    (order,) = take_in(order_text([line_for(good), line_for(bad, **changes)]))
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    assert reasons(order) == {1: "", 2: reason}
    assert LedgerEntry.objects.filter(order=order).count() == 1
    document = ReturnDocument.objects.get(order=order)
    assert document.lines_count == 1
    assert order.lines_returned == 1


def test_a_deceased_participants_later_period_is_returned_an_earlier_one_posted(people) -> None:
    dead = people[0]  # died 2023-06-10
    (order,) = take_in(order_text([line_for(dead, period="052023"), line_for(dead, period="072023")]))
    assert reasons(order) == {1: "", 2: "deceased"}


def test_name_comparison_rules(people) -> None:
    person = people[5]
    lines = [
        line_for(person, last_name=f"  {person.last_name.lower()}  "),  # case and spaces
        line_for(person, patronymic=""),  # an empty patronymic on the line is fine
    ]
    (order,) = take_in(order_text(lines))
    assert order.status == OrderStatus.POSTED


def test_yo_equals_ye_but_kazakh_letters_are_distinct(people, settings) -> None:
    from records.registry import registry_load_snapshot

    csv = "iin,last_name,first_name,patronymic,birth_date,gender,death_date\n791028302728,ЁЛКИНА,ӘСЕМ,,1979-10-28,F,\n"
    registry_load_snapshot(raw=csv.encode(), file_name="x.csv", actor=ACTOR)
    from contributions.synthetic import LineSpec

    def spec(last: str, first: str) -> LineSpec:
        return LineSpec("791028302728", last, first, "", date(1979, 10, 28), "102023", "100,00")

    (order,) = take_in(order_text([spec("ЕЛКИНА", "ӘСЕМ"), spec("ЁЛКИНА", "АСЕМ")]))
    assert reasons(order) == {1: "", 2: "name_mismatch"}


def test_every_line_failing_returns_the_order(people) -> None:
    (order,) = take_in(order_text([line_for(people[6], amount="-5,00"), line_for(people[7], iin="123")]))
    assert order.status == OrderStatus.RETURNED
    assert not LedgerEntry.objects.filter(order=order).exists()
    assert order.amount_returned == Decimal("6995.00")  # -5.00 and 7000.00, as sent
    assert ReturnDocument.objects.get(order=order).lines_count == 2


def test_lines_that_would_be_posted_for_more_than_the_order_pays_need_review(people) -> None:
    """A negative line still adds up to the total; returning it alone would post 14 000.00 of
    an order that paid 13 995.00. The order needs review and nothing is posted."""
    (order,) = take_in(order_text([line_for(people[6]), line_for(people[7]), line_for(people[8], amount="-5,00")]))
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert not LedgerEntry.objects.filter(order=order).exists()
    assert set(order.lines.values_list("status", flat=True)) == {"pending"}
    assert problems(order) == ["the lines that pass add up to 14000.00, more than the order pays (13995.00)"]
    assert order.finished_at is None  # open for the one-working-day clock until resolved
    assert process_order(order_id=order.pk, actor=ACTOR) is None  # no longer open: a redelivery does nothing


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"total": "1,00"}, "add up to"),
        ({"knp": "010"}, "KNP 010"),
        ({"payee_idn": "990140004654"}, "payee"),
        ({"payee_bic": "HSBKKZKX"}, "payee bank"),
    ],
)
def test_an_order_wrong_as_a_whole_needs_review_and_nothing_is_posted(people, kwargs, problem) -> None:
    (order,) = take_in(order_text([line_for(people[8])], **kwargs))
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert any(problem in e for e in problems(order)), order.errors
    assert all(e.startswith("line ") for e in problems(order))
    assert not LedgerEntry.objects.exists()
    assert order.lines.count() == 1  # kept for the reviewer


def test_a_truncated_message_needs_review_and_the_raw_file_is_kept(people) -> None:
    text = order_text([line_for(people[9]), line_for(people[10])])
    cut = text[: text.index(":21:2") + 12]
    (order,) = take_in(cut)
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert order.errors
    assert bytes(IncomingFile.objects.get().raw) == cut.encode()
    assert not LedgerEntry.objects.exists()


def test_a_file_that_cannot_be_split_yields_one_order_needing_review() -> None:
    (order,) = take_in(b"\x00\xffnot a payment order at all", name="junk.bin")
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert order.errors
    assert not order.is_original
    assert bytes(order.file.raw) == b"\x00\xffnot a payment order at all"


def test_the_same_file_twice_posts_nothing_twice(people) -> None:
    text = order_text([line_for(p) for p in people[11:14]])
    (first,) = take_in(text)
    (second,) = take_in(text)
    assert second.status == OrderStatus.DUPLICATE
    assert second.duplicate_of == first
    assert LedgerEntry.objects.count() == 3
    assert IncomingFile.objects.count() == 2  # the second file is kept too


def test_the_same_order_twice_in_one_file(people) -> None:
    text = order_text([line_for(people[14])])
    first, second = take_in(text + text)
    assert (first.status, second.status) == (OrderStatus.POSTED, OrderStatus.DUPLICATE)
    assert second.duplicate_of == first


def test_processing_twice_changes_nothing(people) -> None:
    (order,) = take_in(order_text([line_for(p) for p in people[15:18]]))
    assert process_order(order_id=order.pk, actor=ACTOR) is None
    assert LedgerEntry.objects.count() == 3


def test_entries_are_immutable(people) -> None:
    take_in(order_text([line_for(people[18])]))
    entry = LedgerEntry.objects.get()
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("7000.00")


def test_a_registry_change_updates_the_participant_with_a_change_record(people) -> None:
    from records.registry import registry_load_snapshot
    from records.synthetic import registry_csv

    person = people[19]
    take_in(order_text([line_for(person)]))
    from dataclasses import replace

    registry_load_snapshot(
        raw=registry_csv([replace(person, last_name="НОВАЯФАМИЛИЯ")]), file_name="r2.csv", actor=ACTOR
    )
    # The reload itself records the change of a known participant (paragraph 9).
    change = PersonalDataChange.objects.get(participant__iin=person.iin)
    assert (change.field, change.new_value) == ("last_name", "НОВАЯФАМИЛИЯ")


def test_lines_keep_the_line_of_the_file(people) -> None:
    (order,) = take_in(order_text([line_for(people[20]), line_for(people[21])]))
    first, second = OrderLine.objects.filter(order=order).order_by("sequence")
    text = order_text([line_for(people[20]), line_for(people[21])]).splitlines()
    assert text[first.file_line - 1] == ":21:1"
    assert text[second.file_line - 1] == ":21:2"


def test_a_day_the_calendar_does_not_know_keeps_the_order_and_says_why(people) -> None:
    raw = order_text([line_for(people[22])]).encode()
    (order,) = intake_file(raw=raw, file_name="o.mt102", door="command", actor=ACTOR, received=date(2031, 1, 10)).orders
    process_order(order_id=order.pk, actor=ACTOR)
    order.refresh_from_db()
    assert order.deadline is None
    assert any("2031" in e for e in problems(order))


def test_a_known_participant_whose_registry_data_differ_gets_change_records(people) -> None:
    from records.services import participant_create

    person = people[23]
    participant_create(
        iin=person.iin,
        actor=ACTOR,
        source="test",
        last_name="СТАРАЯФАМИЛИЯ",
        first_name=person.first_name,
        patronymic=person.patronymic,
        birth_date=person.birth_date,
        gender=person.gender,
    )
    (order,) = take_in(order_text([line_for(person), line_for(people[24])]))
    assert order.status == OrderStatus.POSTED
    change = PersonalDataChange.objects.get(participant__iin=person.iin)
    assert (change.field, change.old_value, change.new_value) == ("last_name", "СТАРАЯФАМИЛИЯ", person.last_name)
    assert change.source == f"state registry, checked for payment order {order.pk}"
    assert Participant.objects.get(iin=person.iin).last_name == person.last_name
    assert not PersonalDataChange.objects.filter(participant__iin=people[24].iin).exists()
    assert LedgerEntry.objects.filter(order=order).count() == 2


def test_processing_sends_the_same_statements_whatever_the_size_of_the_order(people) -> None:
    """Set-based: a 3-line order and a 24-line order cost PostgreSQL the same statements."""
    from tests.conftest import statements_sent

    small = intake_file(
        raw=order_text([line_for(p) for p in people[1:4]]).encode(), file_name="s.mt102", door="command",
        actor=ACTOR, received=date(2023, 11, 24),
    ).orders[0]  # fmt: skip
    large_lines = [line_for(p, period=f"{m:02d}2023") for p in people[1:4] for m in range(1, 9)]
    large = intake_file(
        raw=order_text(large_lines, reference="LARGE", number="77").encode(), file_name="l.mt102",
        door="command", actor=ACTOR, received=date(2023, 11, 24),
    ).orders[0]  # fmt: skip
    with statements_sent() as first:
        process_order(order_id=small.pk, actor=ACTOR)  # creates the participants
    with statements_sent() as second:
        process_order(order_id=large.pk, actor=ACTOR)  # finds them
    assert PaymentOrder.objects.get(pk=large.pk).lines_posted == 24
    first, second = ([s for s in sent if "SAVEPOINT" not in s] for sent in (first, second))  # the test's
    # lock, lines, registry, participants (known, then new), outcome
    assert len(first) == 6, first
    assert len(second) == 5, second  # every participant known: no INSERT


@pytest.mark.django_db(transaction=True)
def test_processing_writes_history_with_the_acting_task(people) -> None:
    """Committed for real, as in a worker: the outcome statements go straight through psycopg
    (records.db.bound_cursor), and the history context set by the lock statement reaches their
    triggers."""
    result = intake_file(
        raw=order_text([line_for(people[25])]).encode(), file_name="h.mt102", door="command", actor=ACTOR,
        received=date(2023, 11, 24), enqueue=False,  # committed for real: no worker may take it first
    )  # fmt: skip
    order = result.orders[0]
    assert process_order(order_id=order.pk, actor=Actor(label="task:contributions.process_order")) == "posted"
    update = order.events.filter(pgh_label="update").latest("pgh_id")  # type: ignore[attr-defined]
    assert update.status == OrderStatus.POSTED
    assert update.pgh_context is not None
    assert update.pgh_context.metadata["actor"] == "task:contributions.process_order"
    created = Participant.objects.get(iin=people[25].iin).events.get(pgh_label="insert")  # type: ignore[attr-defined]
    assert created.pgh_context is not None
    assert created.pgh_context.metadata["actor"] == "task:contributions.process_order"


def test_a_posted_line_without_its_entry_posts_nothing(people, monkeypatch) -> None:
    """The outcome statement checks its own work: should a posted line find no participant, the
    order is not posted at all (and stays open for another attempt)."""
    from contributions.services import posting as services

    real = services._participants_for

    def losing_one(*args, **kwargs):
        ids = real(*args, **kwargs)
        ids.pop(people[26].iin)
        return ids

    monkeypatch.setattr(services, "_participants_for", losing_one)
    result = intake_file(
        raw=order_text([line_for(people[26]), line_for(people[27])]).encode(), file_name="x.mt102",
        door="command", actor=ACTOR, received=date(2023, 11, 24),
    )  # fmt: skip
    order = result.orders[0]
    with pytest.raises(services.IncompletePosting, match=f"payment order {order.pk}"):
        process_order(order_id=order.pk, actor=ACTOR)
    order.refresh_from_db()
    assert (order.status, order.lines_posted, order.attempts) == (OrderStatus.RECEIVED, 0, 0)
    assert not LedgerEntry.objects.filter(order=order).exists()
    assert set(order.lines.values_list("status", flat=True)) == {"pending"}
    monkeypatch.undo()
    assert process_order(order_id=order.pk, actor=ACTOR) == OrderStatus.POSTED
    assert LedgerEntry.objects.filter(order=order).count() == 2


def test_a_failed_attempt_is_counted_and_raised(people, monkeypatch) -> None:
    from contributions import services
    from contributions.tasks import process_order_task

    def failing(*args, **kwargs):
        raise services.IncompletePosting(0)

    result = intake_file(
        raw=order_text([line_for(people[28])]).encode(), file_name="f.mt102", door="command", actor=ACTOR,
        received=date(2023, 11, 24), enqueue=False,
    )  # fmt: skip
    order = result.orders[0]
    monkeypatch.setattr("contributions.tasks.process_order", failing)
    with pytest.raises(services.IncompletePosting):
        process_order_task(order.pk)
    order.refresh_from_db()
    assert (order.status, order.attempts) == (OrderStatus.RECEIVED, 1)


def test_the_knp_codes_in_force_on_the_receipt_date_decide(people) -> None:
    """KNP codes are effective-dated data: intake accepts only a code in force on the receipt date,
    and processing posts with the entry kind in force on that date."""
    from contributions.models import PurposeCode
    from contributions.services import purpose_kinds

    PurposeCode.objects.filter(code="017").update(valid_to=date(2023, 11, 23))
    old_012 = PurposeCode.objects.get(code="012")
    PurposeCode.objects.filter(pk=old_012.pk).update(valid_to=date(2023, 11, 26))
    PurposeCode.objects.create(
        code="012", ledger_kind=EntryKind.PENALTY, name_kk="-", name_ru="-", name_en="-", valid_from=date(2023, 11, 27)
    )  # a made-up change of meaning, to see which row applies
    assert purpose_kinds(date(2023, 11, 23)) == {"012": EntryKind.CONTRIBUTION, "017": EntryKind.PENALTY}
    assert purpose_kinds(date(2023, 11, 24)) == {"012": EntryKind.CONTRIBUTION}
    assert purpose_kinds(date(2023, 11, 27)) == {"012": EntryKind.PENALTY}

    (expired,) = take_in(order_text([line_for(people[2])], knp="017"))
    assert expired.status == OrderStatus.NEEDS_REVIEW
    assert any("KNP 017" in error for error in problems(expired))
    (before,) = take_in(order_text([line_for(people[3])], reference="R1", number="1"))
    raw = order_text([line_for(people[4])], reference="R2", number="2").encode()
    (after,) = intake_file(
        raw=raw, file_name="o.mt102", door="command", actor=ACTOR, received=date(2023, 11, 27)
    ).orders
    process_order(order_id=after.pk, actor=ACTOR)
    assert LedgerEntry.objects.get(order=before).kind == EntryKind.CONTRIBUTION
    assert LedgerEntry.objects.get(order=after).kind == EntryKind.PENALTY
