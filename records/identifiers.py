"""IIN and BIN: the one validator used by models, forms and the API (reference.md §1.3).

Validity is length 12, digits only, and the two-pass mod-11 check digit. The birth date and
the century/sex digit inside an IIN are advisory only (conventions: "Units, time,
identifiers"): since Government Decree No. 853 of 2013 they need not match the person.
"""

from __future__ import annotations

import random
import re
from datetime import date
from enum import StrEnum
from functools import lru_cache

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

FIRST_PASS_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
SECOND_PASS_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


class IdentifierError(StrEnum):
    """Why a string is not a usable IIN/BIN. The values are stable codes for reports."""

    LENGTH = "length"
    NOT_DIGITS = "not_digits"
    UNUSABLE_PREFIX = "unusable_prefix"
    CHECK_DIGIT = "check_digit"


_MESSAGES = {
    IdentifierError.LENGTH: _("An IIN/BIN has exactly 12 characters."),
    IdentifierError.NOT_DIGITS: _("An IIN/BIN consists of digits only."),
    IdentifierError.UNUSABLE_PREFIX: _("No IIN/BIN is issued with these first 11 digits."),
    IdentifierError.CHECK_DIGIT: _("The check digit of the IIN/BIN is wrong."),
}


def check_digit(first11: str) -> int | None:
    """The 12th digit for the given first 11, or ``None`` when the number is never issued
    (both passes give 10)."""
    digits = [int(c) for c in first11]
    remainder = sum(d * w for d, w in zip(digits, FIRST_PASS_WEIGHTS, strict=True)) % 11
    if remainder == 10:
        remainder = sum(d * w for d, w in zip(digits, SECOND_PASS_WEIGHTS, strict=True)) % 11
        if remainder == 10:
            return None
    return remainder


def identifier_error(value: str) -> IdentifierError | None:
    """The reason ``value`` is not a valid IIN/BIN, or ``None`` when it is valid."""
    if len(value) != 12:
        return IdentifierError.LENGTH
    return _twelve_characters_error(value)


@lru_cache(maxsize=65_536)  # pure; the pipeline asks about the same IINs month after month
def _twelve_characters_error(value: str) -> IdentifierError | None:
    if not (value.isascii() and value.isdigit()):
        return IdentifierError.NOT_DIGITS
    expected = check_digit(value[:11])
    if expected is None:
        return IdentifierError.UNUSABLE_PREFIX
    if expected != int(value[11]):
        return IdentifierError.CHECK_DIGIT
    return None


def is_valid_iin_bin(value: str) -> bool:
    return identifier_error(value) is None


def validate_iin_bin(value: str) -> None:
    """Django validator: raises ``ValidationError`` with a stable code and a translated message."""
    error = identifier_error(value)
    if error is not None:
        raise ValidationError(_MESSAGES[error], code=f"iin_{error.value}")


class IINFormField(forms.CharField):
    default_validators = [validate_iin_bin]

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("min_length", 12)
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)  # type: ignore[arg-type]


class IINSerializerField(serializers.CharField):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("min_length", 12)
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.validators.append(validate_iin_bin)


def make_iin(birth_date: date, *, male: bool, rng: random.Random) -> str:
    """A synthetic IIN with a valid check digit (for demo data and tests only).

    Digits 1-6 are the birth date and digit 7 the century/sex code, as on pre-2013 IINs.
    """
    century = birth_date.year // 100
    code = {18: 1, 19: 3, 20: 5}.get(century, 5) + (0 if male else 1)
    while True:
        first11 = f"{birth_date:%y%m%d}{code}{rng.randrange(10000):04d}"
        digit = check_digit(first11)
        if digit is not None:
            return f"{first11}{digit}"


def make_bin(registered: date, *, rng: random.Random) -> str:
    """A synthetic BIN of a resident legal entity's head office with a valid check digit."""
    while True:
        first11 = f"{registered:%y%m}40{rng.randrange(100000):05d}"
        digit = check_digit(first11)
        if digit is not None:
            return f"{first11}{digit}"


_KZ_IBAN = re.compile(r"KZ[0-9]{2}[0-9]{3}[0-9A-Z]{13}")


def is_kz_iban(value: str) -> bool:
    """A Kazakh IBAN (``KZ``, two check digits, a three-digit bank code, a 13-character account)
    whose ISO 13616 mod-97 remainder is 1. Used for the accounts a return payment names."""
    if not _KZ_IBAN.fullmatch(value):
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def make_kz_iban(bank_code: str, account: str) -> str:
    """A synthetic Kazakh IBAN of the bank ``bank_code`` (three digits) for a 13-character
    ``account``, with its ISO 13616 check digits (test and benchmark data only)."""
    body = f"{bank_code}{account}"
    digits = int("".join(str(int(ch, 36)) for ch in body + "KZ00"))
    return f"KZ{98 - digits % 97:02d}{body}"
