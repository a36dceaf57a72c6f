"""CSV and XLSX lists, and the choice of parser by content."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from contributions.parsers.base import ParsedFile, ParsedOrder
from contributions.parsers.detect import parse_file
from contributions.parsers.tabular import COLUMNS, PAYEE_BIC, PAYEE_IDN, parse_csv, parse_xlsx

HEADER = list(COLUMNS)
# reference, number, document_date, payer_idn, payer_name, knp, total, value_date,
# iin, last_name, first_name, patronymic, birth_date, period, amount
ROW_1 = [
    "SO1",
    "101",
    "2023-11-24",
    "150540152026",
    'ТОО "ДАЛА СЕРВИС"',
    "012",
    "5950.00",
    "2023-11-24",
    "010204597412",
    "НУРЛАНОВ",
    "АЛИБЕК",
    "МАРАТОВИЧ",
    "2001-02-04",
    "2023-10",
    "2450,00",
]
ROW_2 = [
    "SO1",
    "101",
    "2023-11-24",
    "150540152026",
    'ТОО  "ДАЛА СЕРВИС" ',
    "012",
    "5950,00",
    "24.11.2023",
    "901012327593",
    "ЖУМАБАЕВ",
    " МАРАТ ",
    "",
    "12.10.1990",
    "102023",
    "3500",
]
OTHER_ORDER = [
    "PE3",
    "103",
    "2023-11-27",
    "150540152026",
    'ТОО "ДАЛА СЕРВИС"',
    "017",
    "12.37",
    "2023-11-27",
    "980220432559",
    "НУРЛАНОВА",
    "ӘСЕМ",
    "ЕРЛАНОВНА",
    "1998-02-20",
    "202309",
    "12.37",
]


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", newline: str = "\n", encoding: str = "utf-8") -> bytes:
    def quote(cell: str) -> str:
        if any(c in cell for c in (delimiter, '"', "\n", "\r")):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    return newline.join(delimiter.join(quote(cell) for cell in row) for row in rows).encode(encoding) + b"\n"


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("ignored").append(["not", "read"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_value(row: list[str], column: str, value: str) -> list[str]:
    changed = list(row)
    changed[HEADER.index(column)] = value
    return changed


def only_order(result: ParsedFile) -> ParsedOrder:
    assert result.errors == []
    assert len(result.orders) == 1
    return result.orders[0]


def check_first_order(order: ParsedOrder) -> None:
    assert order.errors == []
    assert order.first_line == 2
    assert (order.reference, order.number, order.document_date) == ("SO1", "101", date(2023, 11, 24))
    assert (order.payer_idn, order.payer_name, order.knp) == ("150540152026", 'ТОО "ДАЛА СЕРВИС"', "012")
    assert (order.payee_bic, order.payee_idn) == (PAYEE_BIC, PAYEE_IDN) == ("GCVPKZ2A", "160440007161")
    assert order.value_date == date(2023, 11, 24)
    assert order.total == Decimal("5950.00")
    assert order.currency == "KZT"
    first, second = order.lines
    assert (first.sequence, first.file_line, first.iin) == (1, 2, "010204597412")
    assert (first.last_name, first.first_name, first.patronymic) == ("НУРЛАНОВ", "АЛИБЕК", "МАРАТОВИЧ")
    assert (first.birth_date, first.period, first.period_text) == (date(2001, 2, 4), date(2023, 10, 1), "2023-10")
    assert first.amount == Decimal("2450.00")
    assert (second.sequence, second.file_line, second.first_name, second.patronymic) == (2, 3, "МАРАТ", "")
    assert (second.birth_date, second.period, second.period_text) == (date(1990, 10, 12), date(2023, 10, 1), "102023")
    assert second.amount == Decimal("3500.00")


# --- CSV --------------------------------------------------------------------------------------


def test_csv_comma() -> None:
    result = parse_csv(csv_bytes([HEADER, ROW_1, ROW_2]))
    assert result.encoding == "utf-8"
    check_first_order(only_order(result))


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_csv_semicolon_bom_and_kz1048(newline: str) -> None:
    rows = [HEADER, ROW_1, ROW_2]
    check_first_order(only_order(parse_csv(b"\xef\xbb\xbf" + csv_bytes(rows, delimiter=";", newline=newline))))
    result = parse_csv(csv_bytes(rows, delimiter=";", newline=newline, encoding="kz1048"))
    assert result.encoding == "kz1048"
    check_first_order(only_order(result))


def test_csv_columns_in_any_order_and_case() -> None:
    order = list(reversed(range(len(HEADER))))
    rows = [[row[i] for i in order] for row in ([h.upper() for h in HEADER], ROW_1, ROW_2)]
    rows[0] = [f" {name} " for name in rows[0]] + ["COMMENT"]
    rows[1].append("ignored")
    rows[2].append("")
    check_first_order(only_order(parse_csv(csv_bytes(rows))))


def test_csv_rows_group_into_orders_in_order_of_first_appearance() -> None:
    result = parse_csv(csv_bytes([HEADER, OTHER_ORDER, ROW_1, [""] * len(HEADER), ROW_2]))
    assert result.errors == []
    other, first = result.orders
    assert (other.reference, other.first_line, other.knp, other.total) == ("PE3", 2, "017", Decimal("12.37"))
    assert other.lines[0].first_name == "ӘСЕМ"
    assert other.lines[0].period == date(2023, 9, 1)
    assert first.first_line == 3
    assert [(line.sequence, line.file_line) for line in first.lines] == [(1, 3), (2, 5)]
    assert first.errors == []


def test_csv_quoted_newline_keeps_line_numbers() -> None:
    row = with_value(ROW_1, "payer_name", 'ТОО "ДАЛА\nСЕРВИС"')
    result = parse_csv(csv_bytes([HEADER, row, with_value(ROW_2, "payer_name", 'ТОО "ДАЛА СЕРВИС"')]))
    (order,) = result.orders
    assert [line.file_line for line in order.lines] == [2, 4]


@pytest.mark.parametrize("missing", ["amount", "payer_idn", "patronymic"])
def test_csv_missing_column_is_a_file_level_error(missing: str) -> None:
    index = HEADER.index(missing)
    rows = [[cell for i, cell in enumerate(row) if i != index] for row in (HEADER, ROW_1, ROW_2)]
    result = parse_csv(csv_bytes(rows))
    assert result.orders == []
    (error,) = result.errors
    assert error.line == 1
    assert missing in error.message


def test_empty_csv_is_a_file_level_error() -> None:
    result = parse_csv(b"")
    assert result.orders == []
    assert [error.line for error in result.errors] == [1]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payer_name", "ДРУГОЕ ТОО"),
        ("knp", "017"),
        ("total", "5950.01"),
        ("value_date", "2023-11-25"),
    ],
)
def test_csv_disagreeing_order_columns(column: str, value: str) -> None:
    result = parse_csv(csv_bytes([HEADER, ROW_1, ROW_1, with_value(ROW_2, column, value)]))
    order = only_order(result)
    assert [error.line for error in order.errors] == [4]
    assert column in order.errors[0].message
    assert "line 2" in order.errors[0].message


def test_csv_optional_payer_account_and_bank() -> None:
    header = [*HEADER, "PAYER_ACCOUNT", "payer_bic"]
    first, second = [*ROW_1, "KZ699990000000000001", "XXXXKZKA"], [*ROW_2, "KZ699990000000000001", "XXXXKZKA"]
    order = only_order(parse_csv(csv_bytes([header, first, second])))
    assert order.errors == []
    assert (order.payer_account, order.payer_bic) == ("KZ699990000000000001", "XXXXKZKA")
    assert (only_order(parse_csv(csv_bytes([HEADER, ROW_1]))).payer_account, "") == ("", "")  # without them
    other = [*ROW_2, "KZ429990000000000002", "XXXXKZKA"]
    disagreeing = only_order(parse_csv(csv_bytes([header, first, other])))
    assert [error.line for error in disagreeing.errors] == [3]
    assert "payer_account" in disagreeing.errors[0].message


def test_csv_a_different_key_makes_another_order() -> None:
    result = parse_csv(csv_bytes([HEADER, ROW_1, with_value(ROW_2, "number", "102")]))
    assert [order.number for order in result.orders] == ["101", "102"]
    assert all(order.errors == [] for order in result.orders)


def test_csv_values_invalid_for_line_checks_are_kept() -> None:
    row = with_value(ROW_1, "iin", "12345")
    row = with_value(row, "birth_date", "1990-02-30")
    row = with_value(row, "period", "2023-13")
    row = with_value(row, "amount", "0")
    row2 = with_value(ROW_2, "amount", "-5,5")
    order = only_order(parse_csv(csv_bytes([HEADER, row, row2])))
    assert order.errors == []
    first, second = order.lines
    assert (first.iin, first.birth_date, first.period, first.period_text) == ("12345", None, None, "2023-13")
    assert first.amount == Decimal("0.00")
    assert second.amount == Decimal("-5.50")


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("amount", "abc", "not a number"),
        ("amount", "", "missing"),
        ("amount", "1.234", "more than two decimals"),
        ("reference", "", "reference is empty"),
        ("document_date", "24/11/2023", "not a date"),
        ("value_date", "", "value_date is empty"),
        ("total", "x", "total"),
    ],
)
def test_csv_structural_errors_name_the_row(column: str, value: str, expected: str) -> None:
    row = with_value(ROW_1, column, value)
    result = parse_csv(csv_bytes([HEADER, row]))
    order = only_order(result)
    assert [error.line for error in order.errors] == [2]
    assert expected in order.errors[0].message
    if column == "amount":
        assert order.lines[0].amount is None


def test_csv_row_with_too_many_cells() -> None:
    result = parse_csv(csv_bytes([HEADER, ROW_1, [*ROW_2, "extra"]]))
    order = only_order(result)
    assert [error.line for error in order.errors] == [3]


def test_csv_amounts_with_spaces_as_thousands_separator() -> None:
    row = with_value(with_value(ROW_1, "amount", "2 450,00"), "total", "2\u00a0450,00")
    assert only_order(parse_csv(csv_bytes([HEADER, row]))).lines[0].amount == Decimal("2450.00")


# --- XLSX -------------------------------------------------------------------------------------


def test_xlsx_with_numbers_and_dates() -> None:
    first: list[object] = list(ROW_1)
    first[HEADER.index("iin")] = 10204597412  # an IIN starting with 0 typed as a number
    first[HEADER.index("payer_idn")] = 150540152026
    first[HEADER.index("knp")] = 12
    first[HEADER.index("document_date")] = datetime(2023, 11, 24)
    first[HEADER.index("birth_date")] = datetime(2001, 2, 4)
    first[HEADER.index("period")] = datetime(2023, 10, 1)  # "2023-10" turned into a date
    first[HEADER.index("amount")] = 2450.0
    first[HEADER.index("total")] = 5950
    first[HEADER.index("number")] = 101
    second: list[object] = list(ROW_2)
    second[HEADER.index("period")] = 102023
    second[HEADER.index("amount")] = 3500
    second[HEADER.index("total")] = 5950.0
    second[HEADER.index("document_date")] = date(2023, 11, 24)
    result = parse_xlsx(xlsx_bytes([HEADER, first, second]))
    assert result.encoding == "utf-8"
    order = only_order(result)
    assert order.errors == []
    first_line, second_line = order.lines
    assert first_line.iin == "010204597412"
    assert order.payer_idn == "150540152026"
    assert order.knp == "012"
    assert order.number == "101"
    assert order.document_date == date(2023, 11, 24)
    assert first_line.birth_date == date(2001, 2, 4)
    assert (first_line.period, first_line.period_text) == (date(2023, 10, 1), "2023-10")
    assert first_line.amount == Decimal("2450.00")
    assert (second_line.period, second_line.period_text) == (date(2023, 10, 1), "102023")
    assert order.total == Decimal("5950.00")
    assert [line.file_line for line in order.lines] == [2, 3]


def test_xlsx_numeric_iin_at_or_above_10_12_is_not_padded() -> None:
    row: list[object] = list(ROW_1)
    row[HEADER.index("iin")] = 1234567890123
    order = only_order(parse_xlsx(xlsx_bytes([HEADER, row])))
    assert order.lines[0].iin == "1234567890123"


def test_xlsx_float_amounts() -> None:
    row: list[object] = list(ROW_1)
    row[HEADER.index("amount")] = 0.1 + 0.2  # 0.30000000000000004: cents within float error
    row[HEADER.index("total")] = 0.3
    row2: list[object] = list(ROW_1)
    row2[HEADER.index("amount")] = 12.345
    row2[HEADER.index("total")] = 0.3
    order = only_order(parse_xlsx(xlsx_bytes([HEADER, row, row2])))
    assert order.lines[0].amount == Decimal("0.30")
    assert order.lines[1].amount is None
    assert [error.line for error in order.errors] == [3]


def test_xlsx_header_below_blank_rows_counts_sheet_rows() -> None:
    result = parse_xlsx(xlsx_bytes([[], [None, None], HEADER, ROW_1, [], ROW_2]))
    order = only_order(result)
    assert order.first_line == 4
    assert [line.file_line for line in order.lines] == [4, 6]


def test_xlsx_missing_column() -> None:
    index = HEADER.index("birth_date")
    rows = [[cell for i, cell in enumerate(row) if i != index] for row in (HEADER, ROW_1)]
    result = parse_xlsx(xlsx_bytes(rows))
    assert result.orders == []
    assert [error.line for error in result.errors] == [1]
    assert "birth_date" in result.errors[0].message


def test_xlsx_disagreeing_order_columns() -> None:
    result = parse_xlsx(xlsx_bytes([HEADER, ROW_1, with_value(ROW_2, "knp", "017")]))
    order = only_order(result)
    assert [error.line for error in order.errors] == [3]


@pytest.mark.parametrize("raw", [b"", b"PK\x03\x04garbage", b"not a zip"])
def test_unreadable_xlsx_is_a_file_level_error(raw: bytes) -> None:
    result = parse_xlsx(raw)
    assert result.orders == []
    assert len(result.errors) == 1


# --- detection --------------------------------------------------------------------------------


def test_detection_by_content() -> None:
    mt = b"{1:F01X}\n{2:I102SGROSS000000U3003}\n{4:\n:20:R\n-}\n"
    csv = csv_bytes([HEADER, ROW_1, ROW_2])
    xlsx = xlsx_bytes([HEADER, ROW_1, ROW_2])
    assert parse_file(xlsx, "list.csv") == parse_xlsx(xlsx)
    assert parse_file(csv, "list.xlsx") == parse_csv(csv)
    assert parse_file(csv, "list.mt102") == parse_csv(csv)
    assert parse_file(mt, "list.csv") == parse_mt102_for(mt)
    assert parse_file(b":20:REF\n:50:/D/KZ\n", "x") == parse_mt102_for(b":20:REF\n:50:/D/KZ\n")
    legacy = parse_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")
    assert legacy.orders == []
    assert "XLS" in legacy.errors[0].message


def test_file_name_decides_only_when_content_is_inconclusive() -> None:
    assert parse_file(b"", "empty.mt102") == parse_mt102_for(b"")
    assert parse_file(b"", "empty.csv") == parse_csv(b"")


def parse_mt102_for(raw: bytes) -> ParsedFile:
    from contributions.parsers.mt102 import parse_mt102

    return parse_mt102(raw)


# --- issue 15: currency and damaged bytes -----------------------------------------------------


def test_an_optional_currency_column_is_read_and_must_agree() -> None:
    header = [*HEADER, "currency"]
    order = only_order(parse_csv(csv_bytes([header, [*ROW_1, "usd"], [*ROW_2, "USD"]])))
    assert (order.currency, order.currency_line) == ("USD", 2)
    assert order.errors == []
    order = only_order(parse_csv(csv_bytes([header, [*ROW_1, ""], [*ROW_2, "KZT"]])))
    assert (order.currency, order.errors) == ("KZT", [])
    order = only_order(parse_csv(csv_bytes([header, [*ROW_1, "KZT"], [*ROW_2, "EUR"]])))
    assert [str(error) for error in order.errors] == [
        "line 3: currency 'EUR' differs from 'KZT' on line 2 of the same order"
    ]


def test_a_stray_byte_in_a_csv_list_sends_only_its_order_to_review() -> None:
    raw = csv_bytes([HEADER, ROW_1, ROW_2, OTHER_ORDER])
    at = raw.index("ЖУМАБАЕВ".encode())  # line 3, the first order
    result = parse_csv(raw[:at] + b"\xff" + raw[at:])
    assert result.encoding == "utf-8"
    first, other = result.orders
    assert [str(error) for error in first.errors] == [
        f"line 3: byte 0xFF at offset {at} is not a UTF-8 character: the file is damaged"
    ]
    assert first.lines[1].last_name == "\ufffdЖУМАБАЕВ"
    assert other.errors == []
    assert other.lines[0].last_name == "НУРЛАНОВА"  # not garbled into KZ-1048
