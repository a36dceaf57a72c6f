"""Admin export formats that a spreadsheet cannot turn into formulas (OWASP: CSV injection).

Auditors open exports in Excel or LibreOffice, and the exported rows hold text that payers and
the registry sent (names, references, problems). A cell that starts with ``=`` (or ``+``, ``-``,
``@``) is a formula to a spreadsheet and could run when the file is opened. The library's own
option (``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT``) deletes the ``=``, which changes the
audited data, so these formats keep every value:

- XLSX writes every text value as a text cell, so ``=...`` is shown as written, never computed;
- CSV and TSV, which have no cell types, put an apostrophe before such a value (the spreadsheet
  convention for "text", shown by no spreadsheet) unless it is a plain number such as ``-150.00``.
  The exact value is always in the XLSX and JSON exports.
"""

from __future__ import annotations

import io
import re
from typing import Any

from import_export.formats import base_formats
from openpyxl import load_workbook

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def _as_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return f"'{value}"
    return value


def _quote_formulas(dataset: Any) -> Any:
    quoted = dataset.__class__(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        quoted.append([_as_text(cell) for cell in row])
    return quoted


class CSV(base_formats.CSV):  # type: ignore[misc]
    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        return super().export_data(_quote_formulas(dataset), **kwargs)


class TSV(base_formats.TSV):  # type: ignore[misc]
    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        return super().export_data(_quote_formulas(dataset), **kwargs)


class XLSX(base_formats.XLSX):  # type: ignore[misc]
    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        """The library's workbook, with every cell it took for a formula made a text cell again
        (nothing exported from the database is a formula)."""
        data = super().export_data(dataset, **kwargs)
        book = load_workbook(io.BytesIO(data))
        changed = False
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        text = cell.value
                        cell.value = text
                        cell.data_type = "s"
                        changed = True
        if not changed:
            return data
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


EXPORT_FORMATS = [CSV, XLSX, TSV, base_formats.JSON, base_formats.YAML, base_formats.HTML]
