"""CSV and XLSX files for the staff's spreadsheets, written the same way by every page that
exports (the inventory of case files, the payment lists, the work lists).

CSV opens in Kazakh and Russian Excel: UTF-8 with a byte-order mark, ``;`` between cells,
numbers and dates as the reader writes them (``42075,00``, ``20.12.2023``), text quoted, and text
a spreadsheet would take for a formula written with an apostrophe (``records.export_formats``).
XLSX (openpyxl, write-only) has dates as date cells, amounts and counts as numbers and text as
text cells, never a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import formats
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from records.export_formats import starts_a_formula

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return formats.number_format(value, decimal_pos=2, use_l10n=True)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    text = str(value)
    if starts_a_formula(text):
        text = f"'{text}"
    return '"' + text.replace('"', '""') + '"'


def table_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, cut: str = "") -> bytes:
    out = io.StringIO()
    for line in [columns, *rows]:
        out.write(";".join(csv_cell(cell) for cell in line) + "\r\n")
    if cut:
        out.write(csv_cell(cut) + "\r\n")
    return out.getvalue().encode("utf-8-sig")


def xlsx_text(sheet: Any, value: str) -> WriteOnlyCell:
    """A text cell that stays text: never a formula or an error, whatever it starts with, and
    without the control characters a workbook cannot hold."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def table_xlsx(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, cut: str = "") -> bytes:
    return tables_xlsx([(title, columns, rows)], cut=cut)


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """A typed cell of a write-only sheet: a date-time, date or amount cell with its number
    format, a text cell (``xlsx_text``), or the value as openpyxl types it (counts)."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD.MM.YYYY HH:MM:SS"
    elif isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD.MM.YYYY"
    elif isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00"
    elif isinstance(value, str):
        cell = xlsx_text(sheet, value)
    else:
        cell = WriteOnlyCell(sheet, value=value)
    return cell


def tables_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]], *, cut: str = "") -> bytes:
    """A workbook of one sheet per table (title, columns, rows); ``cut`` closes each sheet."""
    book = Workbook(write_only=True)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append([xlsx_text(sheet, column) for column in columns])
        for row in rows:
            sheet.append([xlsx_cell(sheet, value) for value in row])
        if cut:
            sheet.append([xlsx_text(sheet, cut)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
