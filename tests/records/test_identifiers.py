"""IIN/BIN validation (reference.md §1.3): worked examples and properties."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from records.identifiers import (
    IdentifierError,
    IINFormField,
    IINSerializerField,
    check_digit,
    identifier_error,
    is_valid_iin_bin,
    make_bin,
    make_iin,
    validate_iin_bin,
)


@pytest.mark.parametrize(
    "number",
    [
        "791028302728",  # IIN, first pass: 217 mod 11 = 8
        "061211600012",  # IIN, second pass: 87 -> 10, 112 -> 2
        "850615300012",  # fictional IIN, second pass: 109 -> 10, 156 -> 2
        "940140000385",  # BIN (python-stdnum doctest)
        "990140004654",  # BIN
        "150540012348",  # fictional BIN
    ],
)
def test_worked_examples_are_valid(number: str) -> None:
    assert is_valid_iin_bin(number)
    validate_iin_bin(number)


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("791028302727", IdentifierError.CHECK_DIGIT),  # check digit must be 8
        ("949940000385", IdentifierError.CHECK_DIGIT),  # should be 9 (month 99 is not our business)
        ("79102830272", IdentifierError.LENGTH),
        ("7910283027281", IdentifierError.LENGTH),
        ("", IdentifierError.LENGTH),
        ("79102830272X", IdentifierError.NOT_DIGITS),
        ("７９１０２８３０２７２８", IdentifierError.NOT_DIGITS),  # full-width digits are not ASCII digits
    ],
)
def test_invalid_numbers_name_the_reason(number: str, error: IdentifierError) -> None:
    assert identifier_error(number) is error
    with pytest.raises(ValidationError) as excinfo:
        validate_iin_bin(number)
    assert excinfo.value.code == f"iin_{error.value}"


def test_unusable_prefix_has_no_check_digit() -> None:
    # 85061530005?: s1 = 153 -> 10, s2 = 164 -> 10: no number is issued with this prefix.
    assert check_digit("85061530005") is None
    for last in "0123456789":
        assert identifier_error("85061530005" + last) is IdentifierError.UNUSABLE_PREFIX


def test_second_pass_example_uses_second_weights() -> None:
    assert check_digit("06121160001") == 2
    assert check_digit("85061530001") == 2


first_eleven = st.text(alphabet="0123456789", min_size=11, max_size=11).filter(lambda s: check_digit(s) is not None)


@given(first_eleven)
def test_every_generated_valid_number_passes(prefix: str) -> None:
    number = prefix + str(check_digit(prefix))
    assert is_valid_iin_bin(number)


@given(first_eleven, st.integers(min_value=1, max_value=9))
def test_changing_the_check_digit_always_fails(prefix: str, shift: int) -> None:
    digit = check_digit(prefix)
    assert digit is not None
    wrong = (digit + shift) % 10
    assert identifier_error(prefix + str(wrong)) is IdentifierError.CHECK_DIGIT


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)), st.booleans(), st.integers(0, 2**32))
def test_synthetic_iins_are_valid_and_encode_birth_and_sex(birth: date, male: bool, seed: int) -> None:
    iin = make_iin(birth, male=male, rng=random.Random(seed))
    assert is_valid_iin_bin(iin)
    assert iin[:6] == f"{birth:%y%m%d}"
    assert int(iin[6]) % 2 == (1 if male else 0)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 12, 31)), st.integers(0, 2**32))
def test_synthetic_bins_are_valid_resident_head_offices(registered: date, seed: int) -> None:
    number = make_bin(registered, rng=random.Random(seed))
    assert is_valid_iin_bin(number)
    assert number[4:6] == "40"


def test_form_field_uses_the_same_validator() -> None:
    field = IINFormField()
    assert field.clean(" 791028302728 ") == "791028302728"
    with pytest.raises(ValidationError) as excinfo:
        field.clean("791028302727")
    assert "iin_check_digit" in [e.code for e in excinfo.value.error_list]


def test_serializer_field_uses_the_same_validator() -> None:
    class Input(serializers.Serializer[dict[str, str]]):
        iin = IINSerializerField()

    assert Input(data={"iin": "061211600012"}).is_valid()
    bad = Input(data={"iin": "061211600013"})
    assert not bad.is_valid()
    assert bad.errors["iin"][0].code == "iin_check_digit"


@pytest.mark.django_db
def test_model_rejects_an_invalid_iin() -> None:
    from records.models import Participant

    participant = Participant(
        iin="791028302727", last_name="ИВАНОВ", first_name="ИВАН", birth_date=date(1979, 10, 28), gender="M"
    )
    with pytest.raises(ValidationError) as excinfo:
        participant.full_clean()
    assert "iin" in excinfo.value.message_dict
