"""The checks of an order (conventions: "Incoming payment orders"): what the mutants of
``contributions.checks`` showed no test looked at (docs/testing.md) -- a key exactly as long as
its column, an order number longer than it, a total of zero, an order without lines, and how a
long invalid payer IIN/BIN is quoted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from contributions.checks import KEY_LENGTH, order_problems
from contributions.parsers.base import ParsedOrder
from contributions.parsers.mt102 import parse_mt102
from tests.contributions.test_mt102 import LINES, build, only_order

KNP = {"012", "017"}
RECEIVED = date(2023, 12, 22)


def sample() -> ParsedOrder:
    return only_order(parse_mt102(build(LINES)))


def problems(order: ParsedOrder) -> list[str]:
    return [str(problem) for problem in order_problems(order, known_knp=KNP, received=RECEIVED)]


def test_the_sample_has_no_problem() -> None:
    assert problems(sample()) == []


def test_a_reference_or_number_as_long_as_the_column_is_fine_one_more_is_not() -> None:
    assert KEY_LENGTH == 35
    assert problems(replace(sample(), reference="R" * 35, number="7" * 35)) == []
    assert problems(replace(sample(), reference="R" * 36)) == ["line 1: the reference is longer than 35 characters"]
    assert problems(replace(sample(), number="7" * 36)) == ["line 1: the order number is longer than 35 characters"]


def test_a_total_of_zero_is_not_positive() -> None:
    order = sample()
    zero = replace(order, total=Decimal("0"), lines=[replace(line, amount=Decimal("0")) for line in order.lines])
    assert problems(zero) == ["line 1: the order total 0.00 is not positive"]


def test_an_order_without_lines_says_so() -> None:
    assert problems(replace(sample(), lines=[], total=None)) == ["line 1: the order has no lines"]


def test_a_long_invalid_payer_idn_is_quoted_by_its_first_20_characters() -> None:
    order = replace(sample(), payer_idn="1234567890123456789012345")
    assert problems(order) == ["line 1: the payer IIN/BIN '12345678901234567890' is not valid"]


def test_a_payee_that_is_not_the_state_corporation_is_named_with_the_one_expected(settings) -> None:
    assert problems(replace(sample(), payee_idn="990140004654")) == [
        f"line 1: the payee 990140004654 is not the State Corporation ({settings.STATE_CORPORATION_BIN})"
    ]
    assert problems(replace(sample(), payee_bic="HSBKKZKX")) == [
        f"line 1: the payee bank HSBKKZKX is not {settings.STATE_CORPORATION_BIC}"
    ]


def test_lines_that_do_not_add_up_are_named_with_both_sums() -> None:
    order = sample()
    assert order.total is not None
    wrong = order.total + Decimal("0.01")
    assert problems(replace(order, total=wrong)) == [
        f"line 1: the lines add up to {order.total:.2f}, the order total is {wrong:.2f}"
    ]
