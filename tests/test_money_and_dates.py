"""Money and dates as staff type them, in every language of the app: an amount takes a decimal
comma or point and nothing that could be a thousands separator other than spaces; a date is
DD.MM.YYYY (or ISO) in Kazakh, Russian and English alike, and a refused one names the form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.utils import formats, translation

from contributions.filters import OrderFilter, ReturnDocumentFilter
from contributions.forms import RefundDecisionForm, RefundRegisterForm, ResolveReviewForm
from records.filters import AccessLogFilter
from records.forms import DayField, MoneyField
from records.services import NOTE_MAX_LENGTH

LANGUAGES = ["kk", "ru", "en"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("12000,50", Decimal("12000.50")),
        ("12000.50", Decimal("12000.50")),
        ("12 000,50", Decimal("12000.50")),
        ("12\xa0000.50", Decimal("12000.50")),  # copied from a kk/ru page (no-break space)
        ("1 234 567,5", Decimal("1234567.5")),
        (" 7000 ", Decimal("7000")),
        ("0,01", Decimal("0.01")),
    ],
)
def test_an_amount_takes_a_decimal_comma_or_point(language: str, typed: str, amount: Decimal) -> None:
    with translation.override(language):
        assert MoneyField().clean(typed) == amount


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "typed",
    [
        "12.000,50",  # a point grouping thousands
        "12,000.50",  # a comma grouping thousands
        "12,000",  # twelve, or twelve thousand?
        "12.000",
        "12000,505",
        "1 2000,50",  # spaces not between groups of three
        "12 00,50",
        "12,5,0",
        "12000 ,50",
        "1e3",
        "abc",
        "12\x0050",
        "--1",
    ],
)
def test_an_ambiguous_or_malformed_amount_is_refused_not_guessed(language: str, typed: str) -> None:
    field = MoneyField()
    with translation.override(language):
        with pytest.raises(forms.ValidationError) as refused:
            field.clean(typed)
        message = refused.value.messages[0]
    assert "12000,50" in message  # the error shows how to write it
    if language != "en":
        assert "Enter an amount" not in message  # in the reader's language


def test_the_refund_amount_is_a_money_field_in_a_text_box_with_a_decimal_keyboard() -> None:
    """Not type=number: Chromium reads a number box by its own locale (the comma of 12000,50
    became a thousands separator on a Kazakh page)."""
    field = RefundRegisterForm().fields["amount"]
    assert isinstance(field, MoneyField)
    html = str(RefundRegisterForm()["amount"])
    assert 'type="text"' in html
    assert 'inputmode="decimal"' in html
    with translation.override("kk"):
        form = RefundRegisterForm(
            {"amount": "12000,50", "request_number": "R", "request_date": "03.12.2026", "reason": "r"}
        )
        assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("12000.50")
    assert RefundRegisterForm({"amount": "-1,00"}).errors["amount"]  # below the minimum


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("typed", "day"), [("03.12.2026", date(2026, 12, 3)), ("2026-12-03", date(2026, 12, 3))])
def test_a_date_is_day_month_year_or_iso_in_every_language(language: str, typed: str, day: date) -> None:
    with translation.override(language):
        assert DayField().clean(typed) == day


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("typed", ["12/03/2026", "2026-13-01", "31.02.2026", "3 Dec 2026", "tomorrow"])
def test_a_refused_date_names_the_expected_form(language: str, typed: str) -> None:
    with translation.override(language):
        with pytest.raises(forms.ValidationError) as refused:
            DayField().clean(typed)
        message = refused.value.messages[0]
        pattern = translation.gettext("DD.MM.YYYY")
    assert pattern in message
    assert "03.12.2026" in message
    assert {"kk": "КК.АА.ЖЖЖЖ", "ru": "ДД.ММ.ГГГГ", "en": "DD.MM.YYYY"}[language] == pattern


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_are_written_day_month_year_in_every_language(language: str) -> None:
    with translation.override(language):
        assert formats.date_format(date(2026, 12, 3), "SHORT_DATE_FORMAT") == "03.12.2026"
        assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%d.%m.%Y"
        # The date box shows a date the way it is typed back.
        assert 'value="03.12.2026"' in str(
            forms.DateField(widget=forms.DateInput()).widget.render("d", date(2026, 12, 3))
        )
    if language == "en":
        with translation.override("en"):
            assert formats.date_format(date(2026, 12, 3)) == "03.12.2026"  # not "Dec. 3, 2026"


def test_every_date_and_amount_input_of_the_staff_forms_uses_the_shared_fields() -> None:
    staff_forms = [OrderFilter().form.__class__, RefundRegisterForm, AccessLogFilter().form.__class__]
    staff_forms.append(ReturnDocumentFilter().form.__class__)
    for form in staff_forms:
        for name, field in form.base_fields.items():
            if isinstance(field, forms.DateField):
                assert isinstance(field, DayField), (form, name)
            if isinstance(field, forms.DecimalField):
                assert isinstance(field, MoneyField), (form, name)


@pytest.mark.parametrize(
    ("form", "field"),
    [(RefundRegisterForm, "reason"), (RefundDecisionForm, "note"), (ResolveReviewForm, "note")],
)
def test_free_text_has_a_length_limit_with_a_clear_error(form, field: str) -> None:
    too_long = "я" * (NOTE_MAX_LENGTH + 1)
    with translation.override("ru"):
        errors = [str(error) for error in form({field: too_long}).errors[field]]
    limit, count = NOTE_MAX_LENGTH, NOTE_MAX_LENGTH + 1
    assert errors == [f"Убедитесь, что это значение содержит не более {limit} символов (сейчас {count})."]
    assert form({field: "я" * NOTE_MAX_LENGTH}).errors.get(field) is None
    # No maxlength on the box: a browser would cut a pasted text without a word.
    assert "maxlength" not in str(form()[field])
