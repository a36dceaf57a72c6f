"""The checks of an incoming order (conventions: "Incoming payment orders"; Rules, paragraph 6).

Pure functions: order-level problems send an order to ``needs_review``; a line that fails a line
check is returned to the payer with one reason code.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext_noop

from contributions.models import PaymentOrder, ReturnReason
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


def order_problems(order: ParsedOrder, *, known_knp: set[str]) -> list[Problem]:
    """Why the order itself is wrong (empty when it is fine): parse errors, no lines, Σ lines ≠
    total, a KNP that is not posted, a payee that is not the State Corporation. (An order whose
    passing lines would be posted for more than it paid is found by ``process_order``.)"""
    problems = list(order.errors)
    at = order.first_line
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


def line_reason(line: ParsedLine, record: RegistryRecord | None) -> str:
    """The return reason of a line, or "" when it passes. First failing check wins."""
    if identifier_error(line.iin) is not None:
        return ReturnReason.INVALID_IIN
    if line.amount is None or line.amount <= 0:
        return ReturnReason.INVALID_AMOUNT
    if line.period is None:
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
