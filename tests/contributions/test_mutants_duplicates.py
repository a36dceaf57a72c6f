"""Tests that kill the survivors of the mutation run over the duplicate key, the content checksum
and the conflict problems (``contributions.services.duplicates``; docs/testing.md, docs/intake.md
"Duplicates and conflicts")."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Any

import pytest
from django.db import connection

from contributions.models import LedgerEntry, OrderStatus, PaymentOrder
from contributions.problems import word
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db


def problems(order: PaymentOrder) -> list[str]:
    return [word(entry, translate=False) for entry in order.errors]


def _migration_key_sql() -> str:
    """The statement with which migration 0010 gave the orders taken in before it their key."""
    migration = importlib.import_module("contributions.migrations.0010_order_key_and_inbox").Migration
    statements = [sql for operation in migration.operations for sql in getattr(operation, "sql", None) or []]
    (statement,) = [sql for sql in statements if isinstance(sql, str) and "SET key =" in sql]
    return statement


@pytest.mark.parametrize(
    ("sent_first", "sent_again"),
    [
        (("so  231124", "0777"), ("SO 231124", "777")),
        (("ZERO", "000"), ("zero", "0")),
        (("LETTER", "x05"), ("letter", "X05")),
    ],
    ids=["spaces-case-zeros", "number-of-zeros", "number-starting-with-a-letter"],
)
def test_an_order_keyed_by_the_migration_and_sent_again_is_a_conflict_naming_it(
    people, sent_first: tuple[str, str], sent_again: tuple[str, str]
) -> None:
    """Orders taken in before the key was normalised got it from migration 0010, in the same form
    as ``order_key`` writes it, and no content checksum: sent again (in any spelling of the same
    key) such an order must come to staff as a conflict naming the first, never be posted twice."""
    (first,) = take_in(order_text([line_for(people[1])], reference=sent_first[0], number=sent_first[1]))
    assert first.status == OrderStatus.POSTED, problems(first)
    PaymentOrder.objects.filter(pk=first.pk).update(content_sha256="")
    with connection.cursor() as cursor:
        cursor.execute(_migration_key_sql())
    (again,) = take_in(order_text([line_for(people[1])], reference=sent_again[0], number=sent_again[1]))
    assert again.status == OrderStatus.NEEDS_REVIEW
    assert problems(again) == [
        f"line {again.first_line}: payment order {first.pk} has the same payer, reference, number and document date"
        " but other contents: a staff member must review this order"
    ]
    assert LedgerEntry.objects.filter(order=again).count() == 0


def test_a_conflict_inside_one_file_names_the_line_of_the_first_order(people) -> None:
    """The reviewer finds the order it collides with by the line of the file it starts at."""
    first = order_text([line_for(people[2])], reference="INFILE", number="7")
    second = order_text([line_for(people[2], amount="1,00")], reference="INFILE", number="7")
    one, two = take_in(first + second)
    assert (one.status, two.status) == (OrderStatus.POSTED, OrderStatus.NEEDS_REVIEW)
    assert two.first_line > one.first_line == 1
    assert problems(two) == [
        f"line {two.first_line}: the order at line 1 of this file has the same payer, reference, number and"
        " document date but other contents: a staff member must review this order"
    ]


def _changed_payer_name(people) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"lines": [line_for(people[3])]}, {"lines": [line_for(people[3])], "payer_name": 'ТОО "ДРУГОЕ"'}


def _changed_value_date(people) -> tuple[dict[str, Any], dict[str, Any]]:
    lines = [line_for(people[3])]
    return {"lines": lines, "value_date": date(2023, 11, 24)}, {"lines": lines, "value_date": date(2023, 11, 23)}


def _changed_birth_date(people) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"lines": [line_for(people[3])]}, {"lines": [line_for(people[3], birth_date=date(1990, 1, 1))]}


def _amounts_swapped(people) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {"lines": [line_for(people[3], amount="7000,00"), line_for(people[4], amount="3000,00")]},
        {"lines": [line_for(people[3], amount="3000,00"), line_for(people[4], amount="7000,00")]},
    )


@pytest.mark.parametrize(
    "change", [_changed_payer_name, _changed_value_date, _changed_birth_date, _amounts_swapped],
    ids=["payer-name", "value-date", "a-line-birth-date", "amounts-swapped-between-two-people"],
)  # fmt: skip
def test_the_same_key_with_any_other_content_is_a_conflict_not_a_duplicate(people, change) -> None:
    """The checksum covers the order's parties and dates and every line's person and amount:
    an order that differs from the first in any of them (the same total included) is not the
    same money sent twice, and must not be dropped silently as a duplicate."""
    first_kwargs, again_kwargs = change(people)
    (first,) = take_in(order_text(reference="SAMEKEY", number="9", **first_kwargs), process=False)
    (again,) = take_in(order_text(reference="SAMEKEY", number="9", **again_kwargs), process=False)
    assert first.status == OrderStatus.RECEIVED, problems(first)
    assert again.total == first.total
    assert again.status == OrderStatus.NEEDS_REVIEW
    assert again.duplicate_of_id is None
    assert any(f"payment order {first.pk} has the same payer" in p for p in problems(again))


def test_the_same_order_with_its_periods_written_year_first_is_a_duplicate(people) -> None:
    """``/PERIOD/`` may be MMYYYY or YYYYMM: the same order sent again in the other notation is
    the same money, a duplicate of the first, not a conflict for staff."""
    (first,) = take_in(order_text([line_for(people[5], period="102023")], reference="PER", number="1"))
    (again,) = take_in(order_text([line_for(people[5], period="202310")], reference="PER", number="1"))
    assert first.status == OrderStatus.POSTED, problems(first)
    assert (again.status, again.duplicate_of_id) == (OrderStatus.DUPLICATE, first.pk), problems(again)
    assert LedgerEntry.objects.count() == 1
