"""Tests that kill the survivors of the mutation run over posting and the line checks
(docs/testing.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from contributions.checks import line_reason
from contributions.models import OrderStatus, PaymentOrder
from contributions.parsers.base import ParsedLine
from contributions.problems import word
from contributions.services import intake_file, order_count_failed_attempt, process_order
from records.models import AuditEvent, Participant
from records.registry import RegistryRecord
from records.services import Actor
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")


def test_an_order_held_for_review_counts_its_attempt_and_says_why_at_no_line(people) -> None:
    lines = [line_for(people[7], amount="9000,00"), line_for(people[8], amount="-2000,00")]
    (order,) = take_in(order_text(lines, reference="HOLD2", number="6", total="7000,00"), process=False)
    order_count_failed_attempt(order_id=order.pk, actor=ACTOR)  # an earlier attempt that failed
    process_order(order_id=order.pk, actor=ACTOR)
    held = PaymentOrder.objects.get(pk=order.pk)
    assert held.status == OrderStatus.NEEDS_REVIEW
    assert held.attempts == 2
    assert held.started_at is not None
    (problem,) = held.errors
    assert problem["line"] == 0
    assert word(problem, translate=False).startswith("the lines that pass add up to 9000.00")


def test_a_failed_attempt_is_counted_on_its_own_open_order_only(people) -> None:
    first, second = (
        intake_file(
            raw=order_text([line_for(people[n])], reference=f"F{n}", number=str(n)).encode(),
            file_name="o.mt102", door="command", actor=ACTOR, received=date(2023, 11, 24), enqueue=False,
        ).orders[0]
        for n in (1, 2)
    )  # fmt: skip
    order_count_failed_attempt(order_id=first.pk, actor=ACTOR)
    assert dict(PaymentOrder.objects.values_list("pk", "attempts")) == {first.pk: 1, second.pk: 0}
    process_order(order_id=second.pk, actor=ACTOR)
    order_count_failed_attempt(order_id=second.pk, actor=ACTOR)  # final: not counted again
    assert PaymentOrder.objects.get(pk=second.pk).attempts == 1


def test_a_participant_created_by_a_signed_in_user_names_him_in_the_audit_event(people, head_of_service) -> None:
    (order,) = take_in(order_text([line_for(people[9])], reference="AU2", number="2"), process=False)
    process_order(order_id=order.pk, actor=Actor.of(head_of_service))
    created = Participant.objects.get(iin=people[9].iin)
    event = AuditEvent.objects.get(action="participant.create", object_pk=str(created.pk))
    assert (event.actor, event.actor_label) == (head_of_service, head_of_service.username)


def test_a_death_on_the_first_day_of_the_period_is_not_before_it() -> None:
    record = RegistryRecord(
        iin="791028302728", last_name="ИВАНОВ", first_name="ИВАН", patronymic="",
        birth_date=date(1979, 10, 28), gender="M", death_date=date(2023, 10, 1),
    )  # fmt: skip
    line = ParsedLine(
        sequence=1, file_line=1, iin=record.iin, last_name="ИВАНОВ", first_name="ИВАН", patronymic="",
        birth_date=record.birth_date, period=date(2023, 10, 1), period_text="102023", amount=Decimal("7000.00"),
    )  # fmt: skip
    assert line_reason(line, record, received=date(2023, 11, 24)) == ""
    died_before = replace(record, death_date=date(2023, 9, 30))
    assert line_reason(line, died_before, received=date(2023, 11, 24)) == "deceased"
