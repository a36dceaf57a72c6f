"""Posting (Rules, paragraphs 6 and 9): what the mutants of ``contributions.services.posting``
showed no test looked at (docs/testing.md) -- an order processed after its month is judged by
its receipt date, a held order says so to its caller, and every known participant of an order
is compared with the registry, not only those before the first unchanged one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contributions.models import LedgerEntry, OrderLine, OrderStatus
from contributions.services import process_order
from records.models import PersonalDataChange
from records.services import Actor, participant_create
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")


def test_the_period_is_judged_by_the_receipt_date_not_the_day_of_processing(people) -> None:
    """Received on 2023-11-24: December 2023 is ahead of it, whenever the worker gets to it."""
    (order,) = take_in(order_text([line_for(people[1]), line_for(people[2], period="122023")]))
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    returned = OrderLine.objects.get(order=order, iin=people[2].iin)
    assert returned.reason == "invalid_period"


def test_an_order_held_for_review_says_so_to_whoever_processed_it(people) -> None:
    lines = [line_for(people[3], amount="9000,00"), line_for(people[4], amount="-2000,00")]
    (order,) = take_in(order_text(lines, reference="HOLD3", number="7", total="7000,00"), process=False)
    assert process_order(order_id=order.pk, actor=ACTOR) == OrderStatus.NEEDS_REVIEW
    assert process_order(order_id=order.pk, actor=ACTOR) is None  # no longer open: nothing done
    assert not LedgerEntry.objects.filter(order_id=order.pk).exists()


def test_every_known_participant_is_compared_not_only_those_before_an_unchanged_one(people) -> None:
    same, moved = people[5], people[6]
    for person, last_name in ((same, same.last_name), (moved, "СТАРАЯФАМИЛИЯ")):
        participant_create(
            iin=person.iin,
            actor=ACTOR,
            source="test",
            last_name=last_name,
            first_name=person.first_name,
            patronymic=person.patronymic,
            birth_date=person.birth_date,
            gender=person.gender,
        )
    (order,) = take_in(order_text([line_for(same), line_for(moved)]))  # the unchanged one first
    assert order.status == OrderStatus.POSTED
    change = PersonalDataChange.objects.get(participant__iin=moved.iin)
    assert (change.field, change.old_value, change.new_value) == ("last_name", "СТАРАЯФАМИЛИЯ", moved.last_name)
    assert not PersonalDataChange.objects.filter(participant__iin=same.iin).exists()
    assert LedgerEntry.objects.filter(order=order).count() == 2
    assert order.amount_posted == Decimal("14000.00")
