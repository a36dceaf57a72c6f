"""Admin export formats that a spreadsheet cannot turn into formulas (OWASP: CSV injection).

Auditors open exports in Excel or LibreOffice, and the exported rows hold text that payers and
the registry sent (names, references, problems). A cell that starts with ``=`` (or ``+``, ``-``,
``@``) is a formula to a spreadsheet and could run when the file is opened. The library's own
option (``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT``) deletes the ``=``, which changes the
audited data, so these formats keep every value:

- XLSX writes every text value as a text cell (also ``#N/A`` and the like, which the library
  writes as error cells), so it is shown as written, never computed; the control characters
  XML cannot hold (which openpyxl refuses, failing the whole export) are written as their
  visible Unicode pictures (U+0001 as ``␁``), the exact value being in the other formats;
- CSV and TSV, which have no cell types, quote every field, so a spreadsheet that splits on
  another separator (``;`` in Russian and Kazakh Excel) cannot cut a value into a new cell, and
  put an apostrophe before a value that starts (after spaces) with ``=``, ``+``, ``-`` or ``@``
  unless it is a plain number such as ``-150.00`` (the spreadsheet convention for "text"). The
  exact value is always in the XLSX and JSON exports, and the calendar's CSV import takes the
  apostrophe off again (``records.admin.CalendarDayResource``).

CSV is written as Excel in Kazakh and Russian reads it (issue 19): with a byte order mark, so
that it takes the file for UTF-8 (Cyrillic is garbled otherwise), and ``;`` between the fields
(those Excels split on ``;``, the decimal comma being theirs); TSV keeps its tab, with the mark
too. Reading a CSV takes either separator and drops the mark.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from import_export.formats import base_formats
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def starts_a_formula(value: str) -> bool:
    text = value.lstrip(" ")
    return text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text)


def _as_text(value: Any) -> Any:
    return f"'{value}" if isinstance(value, str) and starts_a_formula(value) else value


def _quote_formulas(dataset: Any) -> Any:
    quoted = dataset.__class__(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        quoted.append([_as_text(cell) for cell in row])
    return quoted


BOM = "\ufeff"
SEPARATOR = ";"


def _separator(text: str) -> str:
    """The separator of a CSV: ``;`` when it cuts the header line into more fields than ``,``."""
    header = text.split("\n", 1)[0]
    widths = {sep: len(next(csv.reader([header], delimiter=sep), [])) for sep in (",", SEPARATOR)}
    return SEPARATOR if widths[SEPARATOR] > widths[","] else ","


class CSV(base_formats.CSV):  # type: ignore[misc]
    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("quoting", csv.QUOTE_ALL)
        kwargs.setdefault("delimiter", SEPARATOR)
        return BOM + super().export_data(_quote_formulas(dataset), **kwargs)

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> Any:
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        text = in_stream.removeprefix(BOM)
        kwargs.setdefault("delimiter", _separator(text))
        return super().create_dataset(text, **kwargs)


class TSV(base_formats.TSV):  # type: ignore[misc]
    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("quoting", csv.QUOTE_ALL)
        return BOM + super().export_data(_quote_formulas(dataset), **kwargs)

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> Any:
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        return super().create_dataset(in_stream.removeprefix(BOM), **kwargs)


def _may_become_a_cell_type(dataset: Any) -> bool:
    """Whether openpyxl could take a value for a formula (``=...``) or an error (``#N/A``)."""
    return any(isinstance(cell, str) and cell[:1] in ("=", "#") for row in dataset for cell in row)


def _control_picture(match: re.Match[str]) -> str:
    return chr(0x2400 + ord(match.group()))  # U+2400..U+241F: the pictures of U+0000..U+001F


def _without_control_characters(dataset: Any) -> Any:
    """``dataset`` with each character XML cannot hold shown as its picture; the same dataset
    when there is none (one pass over the cells, a copy only when needed)."""
    if not any(isinstance(cell, str) and ILLEGAL_CHARACTERS_RE.search(cell) for row in dataset for cell in row):
        return dataset
    cleaned = dataset.__class__(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        cleaned.append([ILLEGAL_CHARACTERS_RE.sub(_control_picture, c) if isinstance(c, str) else c for c in row])
    return cleaned


class XLSX(base_formats.XLSX):  # type: ignore[misc]
    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        """The library's workbook, with every cell it took for a formula or an error made a text
        cell again (nothing exported from the database is either). Reopened only when a value
        could have been taken so: a second pass over a large workbook doubles its time."""
        dataset = _without_control_characters(dataset)
        data = super().export_data(dataset, **kwargs)
        if not _may_become_a_cell_type(dataset):
            return data
        book = load_workbook(io.BytesIO(data))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type in ("f", "e"):
                        text = str(cell.value)
                        cell.value = text
                        cell.data_type = "s"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


EXPORT_FORMATS = [CSV, XLSX, TSV, base_formats.JSON, base_formats.YAML, base_formats.HTML]
# What the admin's imports read: the library's formats, with CSV and TSV as these write them.
IMPORT_FORMATS = [
    f
    for f in (CSV, XLSX, TSV, base_formats.XLS, base_formats.ODS, base_formats.JSON, base_formats.YAML)
    if f.is_available()
]
