"""Payment orders as a list: CSV or XLSX, one row per individual, a header row with the columns
``reference, number, document_date, payer_idn, payer_name, knp, total, value_date, iin,
last_name, first_name, patronymic, birth_date, period, amount`` (any order, case-insensitive).

Rows group into orders by (payer_idn, reference, number, document_date) in order of first
appearance; the other order columns (payer_name, knp, total, value_date) must agree within an
order. The list is addressed to the State Corporation by construction, so the payee is set to
its BIC and BIN. Dates are ``YYYY-MM-DD`` or ``DD.MM.YYYY``, periods ``YYYY-MM`` (or
``MMYYYY``/``YYYYMM``), amounts with a dot or comma decimal.

As with MT102, values that are present but wrong for the line checks are kept, structural
problems become ``ParseError`` entries naming the file line (CSV: the physical line where the
row starts; XLSX: the sheet row). Never raises.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import openpyxl
from django.utils.translation import gettext_noop

from contributions.parsers.base import ParsedFile, ParsedLine, ParsedOrder, ParseError, attach_problems
from contributions.parsers.mt102 import UTF8, clean_name, decode, parse_amount, parse_period

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "PAYEE_BIC", "PAYEE_IDN", "parse_csv", "parse_xlsx"]

COLUMNS = (
    "reference",
    "number",
    "document_date",
    "payer_idn",
    "payer_name",
    "knp",
    "total",
    "value_date",
    "iin",
    "last_name",
    "first_name",
    "patronymic",
    "birth_date",
    "period",
    "amount",
)
# Optional: the payer's account (IBAN) and bank (BIC), which address a return payment (the MT102
# of a return document); a list without them is taken in the same and its returns have no MT102.
# ``currency``: KZT when absent or empty; any other currency makes the order need review.
OPTIONAL_COLUMNS = ("payer_account", "payer_bic", "currency")
_KEY_COLUMNS = ("payer_idn", "reference", "number", "document_date")
_AGREEING_COLUMNS = ("payer_name", "knp", "total", "value_date", *OPTIONAL_COLUMNS)
PAYEE_BIC = "GCVPKZ2A"
PAYEE_IDN = "160440007161"

Cell = str | date


@dataclass
class _Row:
    line: int
    cells: list[Cell]


# --- values -----------------------------------------------------------------------------------


def _text(value: Cell) -> str:
    return value.isoformat() if isinstance(value, date) else value.strip()


def parse_list_date(value: Cell) -> date | None:
    """A date cell, or ``YYYY-MM-DD`` (optionally followed by a time) or ``DD.MM.YYYY``."""
    if isinstance(value, date):
        return value
    text = value.strip()
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T][0-9:.]+)?", text)
    if match:
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    else:
        match = re.fullmatch(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", text)
        if match is None:
            return None
        day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _period(value: Cell) -> tuple[date | None, str]:
    if isinstance(value, date):  # a spreadsheet turned "2023-10" into a date
        return parse_period(f"{value.year:04d}-{value.month:02d}"), f"{value.year:04d}-{value.month:02d}"
    return parse_period(value), value.strip()


def _comparable(column: str, value: Cell) -> object:
    """What must agree between the rows of one order."""
    if column in ("document_date", "value_date"):
        return parse_list_date(value) or _text(value)
    if column == "total":
        amount = parse_amount(_text(value), allow_spaces=True)[0]
        return _text(value) if amount is None else amount
    if column == "payer_name":
        return clean_name(_text(value))
    if column == "currency":
        return _text(value).upper() or "KZT"
    return _text(value)


# --- rows → orders ----------------------------------------------------------------------------


def _header(cells: list[Cell], line: int) -> tuple[dict[str, int], list[ParseError]]:
    positions: dict[str, int] = {}
    errors: list[ParseError] = []
    for index, cell in enumerate(cells):
        name = _text(cell).lstrip("\ufeff").strip().lower()
        if name in COLUMNS or name in OPTIONAL_COLUMNS:
            if name in positions:
                errors.append(
                    ParseError(line, gettext_noop("column %(column)s appears twice in the header"), column=repr(name))
                )
            positions.setdefault(name, index)
    missing = [column for column in COLUMNS if column not in positions]
    if missing:
        errors.append(
            ParseError(line, gettext_noop("missing required column(s): %(columns)s"), columns=", ".join(missing))
        )
    return positions, errors


def _blank(cells: list[Cell]) -> bool:
    return all(not _text(cell) for cell in cells)


def _orders(rows: Iterable[_Row], *, check_width: bool) -> ParsedFile:
    """The first non-blank row is the header; the rest are individuals."""
    result = ParsedFile(encoding=UTF8)
    positions: dict[str, int] | None = None
    width = 0
    orders: dict[tuple[object, ...], tuple[ParsedOrder, _Row]] = {}
    for row in rows:
        if _blank(row.cells):
            continue
        if positions is None:
            positions, errors = _header(row.cells, row.line)
            if errors:
                result.errors.extend(errors)
                return result
            width = len(row.cells)
            while width and not _text(row.cells[width - 1]):
                width -= 1
            continue
        values = {column: row.cells[index] if index < len(row.cells) else "" for column, index in positions.items()}
        key = tuple(_comparable(column, values[column]) for column in _KEY_COLUMNS)
        if key in orders:
            order, first = orders[key]
            _check_agreement(order, first, row, values, positions)
        else:
            order = _new_order(row, values)
            orders[key] = (order, row)
            result.orders.append(order)
        if check_width:
            used = len(row.cells)
            while used and not _text(row.cells[used - 1]):
                used -= 1
            if used > width or len(row.cells) < width:
                order.errors.append(
                    ParseError(
                        row.line,
                        gettext_noop("row has %(cells)s cells, the header has %(width)s"),
                        cells=len(row.cells),
                        width=width,
                    )
                )
        order.lines.append(_line(order, row, values))
    if positions is None:
        result.errors.append(ParseError(1, gettext_noop("no header row: the file is empty")))
    for order in result.orders:
        order.errors.sort(key=lambda error: error.line)
    return result


def _new_order(row: _Row, values: dict[str, Cell]) -> ParsedOrder:
    order = ParsedOrder(
        first_line=row.line,
        reference=_text(values["reference"]),
        number=_text(values["number"]),
        document_date=parse_list_date(values["document_date"]),
        payer_idn=_text(values["payer_idn"]),
        payer_name=clean_name(_text(values["payer_name"])),
        payer_account=_text(values.get("payer_account", "")),
        payer_bic=_text(values.get("payer_bic", "")),
        payee_bic=PAYEE_BIC,
        payee_idn=PAYEE_IDN,
        knp=_text(values["knp"]),
        value_date=parse_list_date(values["value_date"]),
        currency=_text(values.get("currency", "")).upper() or "KZT",
        currency_line=row.line,
    )
    errors = order.errors
    for column in ("reference", "number", "payer_idn", "payer_name", "knp"):
        if not _text(values[column]):
            errors.append(ParseError(row.line, gettext_noop("%(column)s is empty"), column=column))
    for column, parsed in (("document_date", order.document_date), ("value_date", order.value_date)):
        if parsed is None:
            text = _text(values[column])
            if text:
                errors.append(
                    ParseError(
                        row.line, gettext_noop("%(column)s %(value)s is not a date"), column=column, value=repr(text)
                    )
                )
            else:
                errors.append(ParseError(row.line, gettext_noop("%(column)s is empty"), column=column))
    order.total, reason = parse_amount(_text(values["total"]), allow_spaces=True)
    if order.total is None:
        errors.append(ParseError(row.line, gettext_noop("total: %(reason)s"), reason=reason))
    return order


def _check_agreement(
    order: ParsedOrder, first: _Row, row: _Row, values: dict[str, Cell], positions: dict[str, int]
) -> None:
    for column in _AGREEING_COLUMNS:
        if column not in positions:  # an optional column the list does not have
            continue
        index = positions[column]
        first_value = first.cells[index] if index < len(first.cells) else ""
        if _comparable(column, values[column]) != _comparable(column, first_value):
            order.errors.append(
                ParseError(
                    row.line,
                    gettext_noop(
                        "%(column)s %(value)s differs from %(first_value)s on line %(first)s of the same order"
                    ),
                    column=column,
                    value=repr(_text(values[column])),
                    first_value=repr(_text(first_value)),
                    first=first.line,
                )
            )


def _line(order: ParsedOrder, row: _Row, values: dict[str, Cell]) -> ParsedLine:
    amount_text = _text(values["amount"])
    amount, reason = parse_amount(amount_text, allow_spaces=True)
    if amount is None:
        order.errors.append(ParseError(row.line, gettext_noop("amount: %(reason)s"), reason=reason))
    period, period_text = _period(values["period"])
    birth = values["birth_date"]
    return ParsedLine(
        sequence=len(order.lines) + 1,
        file_line=row.line,
        iin=_text(values["iin"]),
        last_name=clean_name(_text(values["last_name"])),
        first_name=clean_name(_text(values["first_name"])),
        patronymic=clean_name(_text(values["patronymic"])),
        birth_date=parse_list_date(birth) if _text(birth) else None,
        period=period,
        period_text=period_text,
        amount=amount,
    )


# --- CSV --------------------------------------------------------------------------------------


def _csv_rows(text: str, delimiter: str) -> Iterable[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    for cells in reader:
        yield _Row(previous + 1, list(cells))
        previous = reader.line_num


def _delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def parse_csv(raw: bytes) -> ParsedFile:
    """A CSV list (UTF-8 with or without BOM, else KZ-1048; comma or semicolon). Never raises."""
    encoding = ""
    line = 1
    try:
        decoded = decode(bytes(raw))
        text, encoding = decoded.text, decoded.encoding
        rows: list[_Row] = []
        try:
            for row in _csv_rows(text, _delimiter(text)):
                line = row.line
                rows.append(row)
        except csv.Error as exc:
            return ParsedFile(
                encoding=encoding,
                errors=[ParseError(line + 1, gettext_noop("not a readable CSV file: %(error)s"), error=str(exc))],
            )
        result = _orders(rows, check_width=True)
        result.encoding = encoding
        attach_problems(result, decoded.problems)  # a damaged byte: its order needs review
        return result
    except Exception as exc:  # noqa: BLE001 - never raise on any input
        return ParsedFile(
            encoding=encoding,
            errors=[ParseError(0, gettext_noop("file could not be parsed (%(error)s)"), error=type(exc).__name__)],
        )


# --- XLSX -------------------------------------------------------------------------------------

_MONEY_COLUMNS = {"amount", "total"}
_PADDED = {"iin": 12, "payer_idn": 12, "knp": 3, "period": 6}


def _cell(column: str, value: object) -> Cell:
    """A spreadsheet value as text or a date.

    Numbers lose leading zeros in spreadsheets: an IIN/BIN given as an integer below 10**12 is
    zero-padded to 12 digits (a KNP to 3, an MMYYYY period to 6). A float with an integral value
    counts as that integer; a float amount is rounded to cents when it is within 1e-6 of them
    (binary floating point), otherwise its full text is kept (and fails as more than two decimals).
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        width = _PADDED.get(column)
        if width is not None and 0 <= value < 10**width:
            return str(value).zfill(width)
        return str(value)
    if isinstance(value, float):
        if column in _MONEY_COLUMNS:
            exact = Decimal(repr(value))
            cents = round(exact, 2)
            if abs(exact - cents) < Decimal("0.000001"):
                return str(cents)
        return repr(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return str(value).strip()


def _xlsx_rows(raw: bytes) -> tuple[list[list[object]], ParseError | None]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any damage to the zip/XML means "not readable"
        return [], ParseError(0, gettext_noop("not a readable XLSX workbook (%(error)s)"), error=type(exc).__name__)
    try:
        if not workbook.worksheets:
            return [], ParseError(0, gettext_noop("the workbook has no sheet"))
        sheet = workbook.worksheets[0]
        return [list(values) for values in sheet.iter_rows(values_only=True)], None
    finally:
        workbook.close()


def parse_xlsx(raw: bytes) -> ParsedFile:
    """The first sheet of an XLSX workbook. Never raises."""
    try:
        values, problem = _xlsx_rows(bytes(raw))
        if problem is not None:
            return ParsedFile(encoding=UTF8, errors=[problem])
        header_index = next((i for i, row in enumerate(values) if any(_cell("", v) for v in row)), None)
        columns: list[str] = []
        if header_index is not None:
            columns = [_text(_cell("", v)).lower() for v in values[header_index]]
        rows = [
            _Row(
                index + 1,
                [_cell(columns[i] if i < len(columns) else "", v) for i, v in enumerate(row)],
            )
            for index, row in enumerate(values)
        ]
        return _orders(rows, check_width=False)
    except Exception as exc:  # noqa: BLE001 - never raise on any input
        return ParsedFile(
            encoding=UTF8,
            errors=[ParseError(0, gettext_noop("file could not be parsed (%(error)s)"), error=type(exc).__name__)],
        )
