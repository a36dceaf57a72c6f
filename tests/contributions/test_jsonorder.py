"""JSON body of the API: fields, amounts, and errors that name their JSON path."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contributions.parsers.jsonorder import parse_json_order

BODY: dict[str, Any] = {
    "reference": "SO231124000001",
    "number": "101",
    "document_date": "2023-11-24",
    "payer": {"idn": "150540152026", "name": 'ТОО  "ДАЛА СЕРВИС"', "account": "KZ699990000000000001"},
    "payee": {"idn": "160440007161", "bic": "GCVPKZ2A", "account": "KZ429990000000000002"},
    "knp": "012",
    "total": "5962.37",
    "value_date": "2023-11-24",
    "lines": [
        {
            "iin": "010204597412",
            "last_name": "НУРЛАНОВ",
            "first_name": "АЛИБЕК",
            "patronymic": "МАРАТОВИЧ",
            "birth_date": "2001-02-04",
            "period": "2023-10",
            "amount": "2450.00",
        },
        {
            "iin": "901012327593",
            "last_name": "ЖУМАБАЕВ",
            "first_name": " МАРАТ ",
            "birth_date": "1990-10-12",
            "period": "2023-10",
            "amount": 3500,
        },
        {
            "iin": "980220432559",
            "last_name": "НУРЛАНОВА",
            "first_name": "ӘСЕМ",
            "patronymic": None,
            "birth_date": "1998-02-20",
            "period": "102023",
            "amount": 12.37,
        },
    ],
}


def body(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BODY)
    data.update(changes)
    return data


def messages(data: object) -> list[str]:
    order = parse_json_order(data)
    assert all(error.line == 0 for error in order.errors)
    return [error.message for error in order.errors]


def test_valid_body() -> None:
    order = parse_json_order(BODY)
    assert order.errors == []
    assert order.first_line == 0
    assert (order.reference, order.number, order.document_date) == ("SO231124000001", "101", date(2023, 11, 24))
    assert (order.payer_idn, order.payer_name, order.payer_account) == (
        "150540152026",
        'ТОО "ДАЛА СЕРВИС"',
        "KZ699990000000000001",
    )
    assert (order.payee_idn, order.payee_bic, order.payee_account) == (
        "160440007161",
        "GCVPKZ2A",
        "KZ429990000000000002",
    )
    assert (order.knp, order.value_date, order.currency) == ("012", date(2023, 11, 24), "KZT")
    assert order.total == Decimal("5962.37")
    first, second, third = order.lines
    assert (first.sequence, first.file_line, first.iin, first.patronymic) == (1, 0, "010204597412", "МАРАТОВИЧ")
    assert (first.birth_date, first.period, first.period_text) == (date(2001, 2, 4), date(2023, 10, 1), "2023-10")
    assert first.amount == Decimal("2450.00")
    assert (second.sequence, second.first_name, second.patronymic, second.amount) == (
        2,
        "МАРАТ",
        "",
        Decimal("3500.00"),
    )
    assert (third.first_name, third.patronymic, third.period, third.amount) == (
        "ӘСЕМ",
        "",
        date(2023, 10, 1),
        Decimal("12.37"),
    )
    assert order.duplicate_key == ("150540152026", "SO231124000001", "101", date(2023, 11, 24))


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        ("5962.37", Decimal("5962.37")),
        ("5962,37", Decimal("5962.37")),
        (100, Decimal("100.00")),
        (0.5, Decimal("0.50")),
    ],
)
def test_total_as_string_or_number(total: object, expected: Decimal) -> None:
    order = parse_json_order(body(total=total))
    assert order.errors == []
    assert order.total == expected


def test_number_may_be_an_integer() -> None:
    order = parse_json_order(body(number=101))
    assert order.errors == []
    assert order.number == "101"


def test_missing_amount_names_the_json_path() -> None:
    data = body()
    data["lines"].append(dict(data["lines"][0]))
    del data["lines"][3]["amount"]
    assert messages(data) == ["lines[3].amount: missing"]
    assert parse_json_order(data).lines[3].amount is None


@pytest.mark.parametrize(
    ("path", "change", "expected"),
    [
        ("reference", lambda d: d.pop("reference"), "reference: missing"),
        ("reference", lambda d: d.update(reference=""), "reference: empty"),
        ("number", lambda d: d.update(number=1.5), "number: expected a string"),
        ("document_date", lambda d: d.update(document_date="24.11.2023"), "document_date: '24.11.2023' is not a date"),
        ("document_date", lambda d: d.update(document_date="2023-02-30"), "document_date: '2023-02-30' is not a date"),
        ("payer", lambda d: d.pop("payer"), "payer: missing"),
        ("payer", lambda d: d.update(payer=["x"]), "payer: expected an object"),
        ("payer.idn", lambda d: d["payer"].update(idn=150540152026), "payer.idn: expected a string"),
        ("payer.name", lambda d: d["payer"].pop("name"), "payer.name: missing"),
        ("payer.account", lambda d: d["payer"].update(account=None), "payer.account: missing"),
        ("payee.bic", lambda d: d["payee"].pop("bic"), "payee.bic: missing"),
        ("payee.idn", lambda d: d["payee"].update(idn=""), "payee.idn: empty"),
        ("knp", lambda d: d.update(knp=12), "knp: expected a string"),
        ("total", lambda d: d.update(total="abc"), "total: amount 'abc' is not a number"),
        ("total", lambda d: d.update(total=12.345), "total: 12.345 has more than two decimals"),
        ("total", lambda d: d.update(total="12.345"), "total: amount '12.345' has more than two decimals"),
        ("total", lambda d: d.update(total=True), "total: expected a number or a string"),
        ("total", lambda d: d.update(total=float("nan")), "total: out of range"),
        ("value_date", lambda d: d.pop("value_date"), "value_date: missing"),
        ("lines", lambda d: d.pop("lines"), "lines: missing"),
        ("lines", lambda d: d.update(lines={"a": 1}), "lines: expected a list"),
        ("lines[1]", lambda d: d["lines"].__setitem__(1, "x"), "lines[1]: expected an object"),
        ("lines[0].iin", lambda d: d["lines"][0].update(iin=10204597412), "lines[0].iin: expected a string"),
        ("lines[2].iin", lambda d: d["lines"][2].pop("iin"), "lines[2].iin: missing"),
        ("lines[1].last_name", lambda d: d["lines"][1].pop("last_name"), "lines[1].last_name: missing"),
        ("lines[0].birth_date", lambda d: d["lines"][0].update(birth_date=20010204), "lines[0].birth_date: expected"),
        ("lines[0].period", lambda d: d["lines"][0].update(period=202310), "lines[0].period: expected a string"),
        ("lines[2].amount", lambda d: d["lines"][2].update(amount=12.371), "lines[2].amount: 12.371 has more than"),
        ("lines[2].amount", lambda d: d["lines"][2].update(amount=[1]), "lines[2].amount: expected a number"),
    ],
)
def test_errors_name_the_json_path(path: str, change: Any, expected: str) -> None:
    data = body()
    change(data)
    errors = messages(data)
    assert len(errors) == 1, errors
    assert errors[0].startswith(path + ":")
    assert errors[0].startswith(expected), errors


def test_values_invalid_for_line_checks_are_not_errors() -> None:
    data = body()
    data["lines"][0].update(iin="123", birth_date="2001-02-30", period="2023-13", amount="-5")
    data["lines"][1].update(amount=0, last_name="")
    data["lines"][2].pop("period")
    data["lines"][2].pop("birth_date")
    order = parse_json_order(data)
    assert order.errors == []
    first, second, third = order.lines
    assert (first.iin, first.birth_date, first.period, first.period_text) == ("123", None, None, "2023-13")
    assert first.amount == Decimal("-5.00")
    assert (second.amount, second.last_name) == (Decimal("0.00"), "")
    assert (third.period, third.period_text, third.birth_date) == (None, "", None)


@pytest.mark.parametrize("data", [None, [], "order", 1, [BODY]])
def test_body_that_is_not_an_object(data: object) -> None:
    order = parse_json_order(data)
    assert [error.message for error in order.errors] == [f"body: expected a JSON object, got {type(data).__name__}"]
    assert order.lines == []


def test_empty_lines_list_is_not_a_parse_error() -> None:
    order = parse_json_order(body(lines=[]))
    assert order.errors == []
    assert order.lines == []


def test_an_optional_currency_is_read() -> None:
    assert parse_json_order(body()).currency == "KZT"
    order = parse_json_order(body(currency="usd"))
    assert (order.currency, order.errors) == ("USD", [])
    assert messages(body(currency="")) == ["currency: empty"]
    assert messages(body(currency=840)) == ["currency: expected a string, got int"]
