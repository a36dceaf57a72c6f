"""The checks of an incoming order (conventions: "Incoming payment orders"; Rules, paragraph 6).

Pure functions: order-level problems send an order to ``needs_review``; a line that fails a line
check is returned to the payer with one reason code.
"""

from __future__ import annotations

import operator
import unicodedata
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from contributions.models import OrderLine, PaymentOrder, ReturnReason
from contributions.parsers.base import ParsedLine, ParsedOrder
from contributions.problems import Amount, Problem
from records.identifiers import identifier_error
from records.registry import RegistryRecord


@lru_cache(maxsize=16_384)  # pure; names repeat across the lines of every order
def normalise_name(value: str) -> str:
    """NFC, trimmed, inner spaces collapsed, case-insensitive, Ё = Е. Kazakh letters stay distinct."""
    text = " ".join(unicodedata.normalize("NFC", value).split()).casefold()
    return text.replace("ё", "е")


# The longest reference or order number the columns hold (MT102 :20: and /NUM/: 35 characters).
KEY_LENGTH: int = PaymentOrder._meta.get_field("reference").max_length  # type: ignore[assignment]

# The only currency posted (conventions, "Units": money is KZT).
CURRENCY = "KZT"

# No payment order of contributions is older than this: compulsory pension contributions (and
# with them the lists of individuals in MT102 orders) began in 1998. An earlier document date is
# a wrong date (YYMMDD "970101" reads as 1997), never a real order.
EARLIEST_DOCUMENT_DATE = date(1998, 1, 1)


def _max_length(model: type[PaymentOrder] | type[OrderLine], name: str) -> int:
    return model._meta.get_field(name).max_length  # type: ignore[union-attr,return-value]


# Values that would be stored cut (their columns' sizes), named in the reader's language. A cut
# account or bank code would address a return payment to someone else, so the order needs
# review instead (the key fields, reference and number, have their own problems above).
_ORDER_TEXT = {
    "payer_name": gettext_noop("payer name"),
    "payer_account": gettext_noop("payer account"),
    "payer_bic": gettext_noop("payer bank BIC"),
    "payee_account": gettext_noop("payee account"),
}
_ORDER_TEXT_LENGTH = {name: _max_length(PaymentOrder, name) for name in _ORDER_TEXT}
_LINE_TEXT = {
    "iin": gettext_noop("IIN"),
    "last_name": gettext_noop("surname"),
    "first_name": gettext_noop("first name"),
    "patronymic": gettext_noop("patronymic"),
    "period_text": gettext_noop("period"),
}
_LINE_TEXT_LENGTH = {name: _max_length(OrderLine, name) for name in _LINE_TEXT}
_LINE_GETTERS = {name: operator.attrgetter(name) for name in _LINE_TEXT}


def order_problems(order: ParsedOrder, *, known_knp: set[str], received: date | None = None) -> list[Problem]:
    """Why the order itself is wrong (empty when it is fine): parse errors, no lines, Σ lines ≠
    total, a KNP that is not posted, a payee that is not the State Corporation, a currency that
    is not KZT, a value longer than its column, a document date after the receipt date
    (``received``; today when not given) or before 1998. (An order whose passing lines would be
    posted for more than it paid is found by ``process_order``.)"""
    problems = list(order.errors)
    at = order.first_line
    problems += _currency_problems(order)
    problems += _length_problems(order)
    problems += _document_date_problems(order, received or timezone.localdate())
    # Longer keys would be stored cut, and a cut key could name another order.
    if len(order.reference) > KEY_LENGTH:
        problems.append(
            Problem(at, gettext_noop("the reference is longer than %(longest)s characters"), longest=KEY_LENGTH)
        )
    if len(order.number) > KEY_LENGTH:
        problems.append(
            Problem(at, gettext_noop("the order number is longer than %(longest)s characters"), longest=KEY_LENGTH)
        )
    if order.payer_idn and identifier_error(order.payer_idn) is not None:
        problems.append(
            Problem(at, gettext_noop("the payer IIN/BIN %(idn)s is not valid"), idn=repr(order.payer_idn[:20]))
        )
    if order.total is not None and order.total <= 0:
        problems.append(
            Problem(at, gettext_noop("the order total %(total)s is not positive"), total=Amount(order.total))
        )
    if not order.lines:
        problems.append(Problem(at, gettext_noop("the order has no lines")))
    if order.knp and order.knp not in known_knp:
        problems.append(
            Problem(at, gettext_noop("KNP %(knp)s is not a code the State Corporation posts"), knp=order.knp)
        )
    if order.payee_idn and order.payee_idn != settings.STATE_CORPORATION_BIN:
        problems.append(
            Problem(
                at,
                gettext_noop("the payee %(payee)s is not the State Corporation (%(bin)s)"),
                payee=order.payee_idn,
                bin=settings.STATE_CORPORATION_BIN,
            )
        )
    if order.payee_bic and order.payee_bic != settings.STATE_CORPORATION_BIC:
        problems.append(
            Problem(
                at,
                gettext_noop("the payee bank %(bic)s is not %(expected)s"),
                bic=order.payee_bic,
                expected=settings.STATE_CORPORATION_BIC,
            )
        )
    amounts = [line.amount for line in order.lines]
    if order.total is not None and order.lines and all(a is not None for a in amounts):
        line_sum = sum((a for a in amounts if a is not None), Decimal("0"))
        if line_sum != order.total:
            problems.append(
                Problem(
                    at,
                    gettext_noop("the lines add up to %(sum)s, the order total is %(total)s"),
                    sum=Amount(line_sum),
                    total=Amount(order.total),
                )
            )
    return problems


def _currency_problems(order: ParsedOrder) -> list[Problem]:
    """Money in another currency is never posted as tenge. The order's currency (MT102 :32A:)
    once; an entry's (:32B:) only when the order's is unknown: where both are known and differ,
    the parser has named the entry already."""
    problems = []
    if order.currency and order.currency != CURRENCY:
        problems.append(
            Problem(
                order.currency_line or order.first_line,
                gettext_noop("the order is in %(currency)s: only %(expected)s is taken in"),
                currency=order.currency[:10],
                expected=CURRENCY,
            )
        )
    if not order.currency:
        problems += [
            Problem(
                line.file_line,
                gettext_noop("the amount of entry %(sequence)s is in %(currency)s: only %(expected)s is taken in"),
                sequence=line.sequence,
                currency=line.currency[:10],
                expected=CURRENCY,
            )
            for line in order.lines
            if line.currency and line.currency != CURRENCY
        ]
    return problems


def _length_problems(order: ParsedOrder) -> list[Problem]:
    """A value longer than its column would be stored cut: the order needs review instead."""
    problems = [
        Problem(
            order.first_line,
            gettext_noop("the %(field)s is longer than %(longest)s characters"),
            field=Problem(0, label),
            longest=_ORDER_TEXT_LENGTH[name],
        )
        for name, label in _ORDER_TEXT.items()
        if len(getattr(order, name)) > _ORDER_TEXT_LENGTH[name]
    ]
    for name, label in _LINE_TEXT.items():
        longest = _LINE_TEXT_LENGTH[name]
        if max(map(len, map(_LINE_GETTERS[name], order.lines)), default=0) <= longest:
            continue  # the usual case, decided at C speed
        for line in order.lines:
            if len(getattr(line, name)) > longest:
                problems.append(
                    Problem(
                        line.file_line,
                        gettext_noop("the %(field)s of entry %(sequence)s is longer than %(longest)s characters"),
                        field=Problem(0, label),
                        sequence=line.sequence,
                        longest=_LINE_TEXT_LENGTH[name],
                    )
                )
    return problems


def _document_date_problems(order: ParsedOrder, received: date) -> list[Problem]:
    """A document dated after the money arrived, or before there were such orders, is a wrong
    date (a typo in YYMMDD, decades ahead or behind), not an order to post."""
    day = order.document_date
    if day is None:
        return []
    if day > received:
        return [
            Problem(
                order.first_line,
                gettext_noop("the document date %(date)s is after the receipt date %(received)s"),
                date=day.isoformat(),
                received=received.isoformat(),
            )
        ]
    if day < EARLIEST_DOCUMENT_DATE:
        return [
            Problem(
                order.first_line,
                gettext_noop("the document date %(date)s is before %(earliest)s"),
                date=day.isoformat(),
                earliest=EARLIEST_DOCUMENT_DATE.isoformat(),
            )
        ]
    return []


def line_reason(line: ParsedLine, record: RegistryRecord | None, *, received: date | None = None) -> str:
    """The return reason of a line, or "" when it passes. First failing check wins.

    A period after the month of receipt (``received``; today when not given) is
    ``invalid_period``: contributions arrive for a month that has begun, never for one decades
    ahead (conventions, "Incoming payment orders": the period must be a real month)."""
    if identifier_error(line.iin) is not None:
        return ReturnReason.INVALID_IIN
    if line.amount is None or line.amount <= 0:
        return ReturnReason.INVALID_AMOUNT
    if line.period is None or line.period > _first_day(received or timezone.localdate()):
        return ReturnReason.INVALID_PERIOD
    if record is None:
        return ReturnReason.UNKNOWN_IIN
    if normalise_name(line.last_name) != normalise_name(record.last_name) or normalise_name(
        line.first_name
    ) != normalise_name(record.first_name):
        return ReturnReason.NAME_MISMATCH
    if line.patronymic.strip() and normalise_name(line.patronymic) != normalise_name(record.patronymic):
        return ReturnReason.NAME_MISMATCH
    if line.birth_date != record.birth_date:
        return ReturnReason.BIRTH_DATE_MISMATCH
    if record.death_date is not None and record.death_date < _first_day(line.period):
        return ReturnReason.DECEASED
    return ""


def _first_day(period: date) -> date:
    return period.replace(day=1)
