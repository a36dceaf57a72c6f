"""The checks of an order (conventions: "Incoming payment orders"): what the mutants of
``contributions.checks`` showed no test looked at (docs/testing.md) -- a key exactly as long as
its column, an order number longer than it, a total of zero, an order without lines, how a
long invalid payer IIN/BIN is quoted, an order or an entry in another currency, a value one
character longer than its column, and a document date just after the receipt or before 1998."""

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


def test_an_order_in_another_currency_is_named_at_its_currency_line() -> None:
    """Money in dollars is never posted as tenge: the reviewer is told the currency (cut to ten
    characters) at the line where the file writes it, or at the order's first line when the
    format has no such line."""
    assert problems(replace(sample(), currency="USD")) == ["line 45: the order is in USD: only KZT is taken in"]
    assert problems(replace(sample(), currency="USD", currency_line=0)) == [
        "line 1: the order is in USD: only KZT is taken in"
    ]
    assert problems(replace(sample(), currency="DOLLARSOFUSA")) == [
        "line 45: the order is in DOLLARSOFU: only KZT is taken in"
    ]


def test_where_the_order_names_no_currency_each_entry_in_another_one_is_named() -> None:
    """An order without its own currency (a format that writes it per entry) is wrong where an
    entry is in another currency; an entry in tenge, or with none written, is fine."""
    order = sample()
    first, second = order.lines
    entries = [replace(first, currency="EURODOLLARS"), replace(second, currency="")]
    assert problems(replace(order, currency="", lines=entries)) == [
        "line 27: the amount of entry 1 is in EURODOLLAR: only KZT is taken in"
    ]
    assert problems(replace(order, currency="", lines=[first, replace(second, currency="")])) == []


def test_an_order_value_as_long_as_its_column_is_fine_one_more_is_named() -> None:
    """A value longer than its column would be stored cut (a cut account addresses the return
    payment to someone else): the order needs review, and the reviewer reads which value."""
    fine = replace(sample(), payer_name="Н" * 200, payer_account="A" * 34, payer_bic="B" * 11, payee_account="C" * 34)
    assert problems(fine) == []
    assert problems(replace(sample(), payer_name="Н" * 201)) == ["line 1: the payer name is longer than 200 characters"]
    assert problems(replace(sample(), payer_account="A" * 35)) == [
        "line 1: the payer account is longer than 34 characters"
    ]
    assert problems(replace(sample(), payer_bic="B" * 12)) == [
        "line 1: the payer bank BIC is longer than 11 characters"
    ]
    assert problems(replace(sample(), payee_account="C" * 35)) == [
        "line 1: the payee account is longer than 34 characters"
    ]


def test_an_entry_value_longer_than_its_column_is_named_at_its_entry() -> None:
    """Every text of every entry is measured (not only the IIN, the first one): the reviewer
    reads which entry and which value, and an entry exactly as long as the column is fine."""
    order = sample()
    first, second = order.lines
    assert problems(replace(order, lines=[replace(first, patronymic="О" * 200), second])) == []
    long_names = [replace(first, last_name="Ф" * 200), replace(second, last_name="Ф" * 201)]
    assert problems(replace(order, lines=long_names)) == [
        "line 36: the surname of entry 2 is longer than 200 characters"
    ]
    assert problems(replace(order, lines=[first, replace(second, period_text="1" * 21)])) == [
        "line 36: the period of entry 2 is longer than 20 characters"
    ]
    assert problems(replace(order, lines=[replace(first, first_name="И" * 201, iin="7" * 41), second])) == [
        "line 27: the IIN of entry 1 is longer than 40 characters",
        "line 27: the first name of entry 1 is longer than 200 characters",
    ]
    assert problems(replace(order, lines=[replace(first, patronymic="О" * 201), second])) == [
        "line 27: the patronymic of entry 1 is longer than 200 characters"
    ]


def test_a_document_dated_after_its_receipt_or_before_1998_is_a_wrong_date() -> None:
    """A YYMMDD typo dates an order decades ahead or behind: the order needs review. The day of
    receipt itself and the first day of 1998 are real dates; an order without a date has none
    to judge."""
    assert problems(replace(sample(), document_date=RECEIVED)) == []
    assert problems(replace(sample(), document_date=None)) == []
    assert problems(replace(sample(), document_date=date(2023, 12, 23))) == [
        "line 1: the document date 2023-12-23 is after the receipt date 2023-12-22"
    ]
    assert problems(replace(sample(), document_date=date(1998, 1, 1))) == []
    assert problems(replace(sample(), document_date=date(1997, 12, 31))) == [
        "line 1: the document date 1997-12-31 is before 1998-01-01"
    ]
