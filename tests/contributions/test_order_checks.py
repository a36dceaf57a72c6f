"""The checks of an order and of its lines hardened (issue 15): currencies, values longer than
their columns, dates out of any range, periods after the receipt, repeated :21: numbers and
damaged bytes through intake, and the cap on stored problems."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from contributions.checks import line_reason, order_problems
from contributions.models import LedgerEntry, OrderStatus, PaymentOrder, ReturnReason
from contributions.parsers.base import ParsedLine, ParsedOrder
from contributions.parsers.mt102 import parse_mt102
from contributions.problems import MAX_PROBLEMS, word
from records.registry import RegistryRecord
from tests.conftest import line_for, order_text, take_in
from tests.contributions.test_mt102 import LINES, build, only_order

KNP = {"012", "017"}
RECEIVED = date(2023, 12, 22)


def checked(lines: list[str] = LINES, *, received: date = RECEIVED) -> list[str]:
    order = only_order(parse_mt102(build(lines)))
    return [str(problem) for problem in order_problems(order, known_knp=KNP, received=received)]


def with_text(old: str, new: str) -> list[str]:
    return [line.replace(old, new) for line in LINES]


def test_the_example_has_no_problem() -> None:
    assert checked() == []


# --- currency ---------------------------------------------------------------------------------


def test_an_order_in_another_currency_needs_review() -> None:
    assert checked(with_text("KZT", "USD")) == ["line 45: the order is in USD: only KZT is taken in"]


def test_an_entry_in_another_currency_is_named_where_the_order_has_none() -> None:
    lines = with_text(":32B:KZT2450,00", ":32B:EUR2450,00")
    lines[44] = ":32A:"  # the order's currency unknown
    problems = checked(lines)
    assert "line 36: the amount of entry 2 is in EUR: only KZT is taken in" in problems  # its :21:


def test_lists_and_json_carry_a_currency_too() -> None:
    order = ParsedOrder(first_line=3, currency="RUB", currency_line=3)
    assert "line 3: the order is in RUB: only KZT is taken in" in [
        str(p) for p in order_problems(order, known_knp=KNP, received=RECEIVED)
    ]


# --- values longer than their columns ---------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            ":50:/D/KZ699990000000000001",
            ":50:/D/KZ699990000000000001" + "0" * 20,
            "line 1: the payer account is longer than 34 characters",
        ),
        (":52B:XXXXKZKA", ":52B:XXXXKZKAXXXX", "line 1: the payer bank BIC is longer than 11 characters"),
        ('/NAME/ТОО "ПРИМЕР"', "/NAME/" + "Т" * 201, "line 1: the payer name is longer than 200 characters"),
        ("/FM/ИВАНОВ", "/FM/" + "И" * 201, "line 27: the surname of entry 1 is longer than 200 characters"),
        ("/PERIOD/112023", "/PERIOD/" + "1" * 21, "line 27: the period of entry 1 is longer than 20 characters"),
    ],
)
def test_a_value_longer_than_its_column_needs_review(old: str, new: str, problem: str) -> None:
    assert problem in checked(with_text(old, new))


def test_a_value_as_long_as_its_column_is_fine() -> None:
    assert checked(with_text('/NAME/ТОО "ПРИМЕР"', "/NAME/" + "Т" * 200)) == []


@pytest.mark.django_db
def test_a_long_payer_account_is_stored_for_review_not_posted_cut(people) -> None:
    text = order_text([line_for(people[1])]).replace("KZ699990000000000001", "KZ699990000000000001" + "7" * 30)
    (order,) = take_in(text)
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert "line 1: the payer account is longer than 34 characters" in [word(e, translate=False) for e in order.errors]
    assert not LedgerEntry.objects.filter(order=order).exists()


# --- dates and periods ------------------------------------------------------------------------


def test_a_document_date_after_the_receipt_needs_review() -> None:
    assert checked(with_text("/DATE/231222", "/DATE/231223")) == [
        "line 1: the document date 2023-12-23 is after the receipt date 2023-12-22"
    ]
    assert checked(with_text("/DATE/231222", "/DATE/491222")) == [
        "line 1: the document date 2049-12-22 is after the receipt date 2023-12-22"
    ]


def test_a_document_date_before_1998_needs_review() -> None:
    assert checked(with_text("/DATE/231222", "/DATE/971231")) == [
        "line 1: the document date 1997-12-31 is before 1998-01-01"
    ]
    assert checked(with_text("/DATE/231222", "/DATE/980101")) == []


def test_without_a_receipt_date_today_is_the_limit() -> None:
    order = only_order(parse_mt102(build(with_text("/DATE/231222", "/DATE/691222"))))  # 2069
    assert [p.template for p in order_problems(order, known_knp=KNP)] == [
        "the document date %(date)s is after the receipt date %(received)s"
    ]


RECORD = RegistryRecord(
    iin="791028302728",
    last_name="ИВАНОВ",
    first_name="ИВАН",
    patronymic="ИВАНОВИЧ",
    birth_date=date(1979, 10, 28),
    gender="M",
    death_date=None,
)
LINE = ParsedLine(
    sequence=1,
    file_line=27,
    iin="791028302728",
    last_name="ИВАНОВ",
    first_name="ИВАН",
    patronymic="ИВАНОВИЧ",
    birth_date=date(1979, 10, 28),
    period=date(2023, 12, 1),
    period_text="122023",
    amount=Decimal("7000.00"),
)


def test_a_period_after_the_month_of_receipt_is_returned_as_invalid() -> None:
    assert line_reason(LINE, RECORD, received=date(2023, 12, 1)) == ""  # the month of receipt
    assert line_reason(LINE, RECORD, received=date(2023, 11, 30)) == ReturnReason.INVALID_PERIOD
    decades_ahead = replace(LINE, period=date(2049, 12, 1), period_text="122049")
    assert line_reason(decades_ahead, RECORD) == ReturnReason.INVALID_PERIOD  # today's month at most


# --- through intake ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_repeated_entry_is_stored_with_its_order_for_review(people) -> None:
    """Two entries numbered alike used to break the lines' unique index and lose the file's
    orders to one "could not be taken in" order; now the order and all its lines are stored,
    and the problem names the line."""
    text = order_text([line_for(people[1]), line_for(people[2]), line_for(people[3], amount="1,00")])
    text = text.replace(":21:3", ":21:2")
    (order,) = take_in(text)
    assert order.status == OrderStatus.NEEDS_REVIEW
    problems = [word(e, translate=False) for e in order.errors]
    assert any("duplicate :21: sequence number 2" in p for p in problems), problems
    assert not any("could not be taken in" in p for p in problems)
    assert list(order.lines.order_by("sequence").values_list("sequence", "iin")) == [
        (1, people[1].iin),
        (2, people[2].iin),
        (3, people[3].iin),
    ]


@pytest.mark.django_db
def test_an_order_in_dollars_is_not_posted_as_tenge(people) -> None:
    text = order_text([line_for(people[1])]).replace("KZT", "USD")
    (order,) = take_in(text)
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert any("the order is in USD" in word(e, translate=False) for e in order.errors)
    assert order.lines_posted == 0


@pytest.mark.django_db
def test_a_stray_byte_sends_its_order_to_review_instead_of_returning_every_line(people) -> None:
    raw = order_text([line_for(people[1]), line_for(people[2])]).encode()
    at = raw.index(people[2].last_name.encode())
    (order,) = take_in(raw[:at] + b"\xff" + raw[at:])
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert order.lines_returned == 0
    assert order.file.encoding == "utf-8"
    assert any(f"byte 0xFF at offset {at}" in word(e, translate=False) for e in order.errors)
    # The other names were read as UTF-8, not garbled.
    assert order.lines.get(sequence=1).last_name == people[1].last_name


@pytest.mark.django_db
def test_megabytes_of_garbage_after_a_message_store_a_bounded_list_of_problems(people) -> None:
    text = order_text([line_for(people[1])]) + "ГАРБАЖ ~~ 0123456789\n" * 100_000  # ~3 MB
    (order,) = take_in(text)
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert len(order.errors) == MAX_PROBLEMS + 1
    assert word(order.errors[-1], translate=False).endswith("99900 further problems are not listed")
    assert PaymentOrder.objects.count() == 1
