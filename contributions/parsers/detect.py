"""Choose the parser of an uploaded file by its content; the file name is only a hint."""

from __future__ import annotations

import re

from django.utils.translation import gettext_noop

from contributions.parsers.base import ParsedFile, ParseError
from contributions.parsers.jsonorder import parse_json_file
from contributions.parsers.mt102 import parse_mt102
from contributions.parsers.tabular import parse_csv, parse_xlsx

__all__ = ["parse_file"]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc)
_HEAD = 4096
# "{1:" / "{4:" blocks, or a ":20:" tag at the start of a line (after an optional BOM/spaces).
_MT102_MARKERS = re.compile(rb"\{[14]:|(?:^|[\r\n])(?:\xef\xbb\xbf)?[ \t]*:20:")
_MT102_NAMES = (".mt102", ".102", ".mt", ".txt", ".swt", ".fin")
# A JSON order: "{" then a key or "}", or "[", after optional BOM and white space (an MT102 block
# starts "{1:", never '{"').
_JSON_START = re.compile(rb'(?:\xef\xbb\xbf)?\s*(?:\{\s*["}]|\[)')


def _kind(raw: bytes, file_name: str) -> str:
    if raw.startswith(_ZIP_MAGIC):
        return "xlsx"
    if raw.startswith(_OLE2_MAGIC):
        return "xls"
    if _JSON_START.match(raw[:_HEAD]):
        return "json"
    if _MT102_MARKERS.search(raw[:_HEAD]):
        return "mt102"
    if file_name.strip().lower().endswith(".json"):
        return "json"  # (not JSON at all: the reader says where it breaks)
    # Nothing marks an MT102: a CSV, unless the name says MT102 and the first line is not a
    # header of a list either (then the MT102 parser's "no message" error is the useful one).
    first_line = next((line for line in raw[:_HEAD].splitlines() if line.strip()), b"")
    looks_tabular = b"," in first_line or b";" in first_line or b"\t" in first_line
    if file_name.strip().lower().endswith(_MT102_NAMES) and not looks_tabular:
        return "mt102"
    return "csv"


def parse_file(raw: bytes, file_name: str) -> ParsedFile:
    """XLSX (zip magic), JSON (``{"`` or ``[`` first), MT102 (``{1:``/``{4:`` or a ``:20:`` line
    near the start), otherwise CSV; the file name only decides an input that is neither (e.g.
    empty, or a ``.json`` that is not JSON). Never raises."""
    try:
        data = bytes(raw)
        kind = _kind(data, file_name or "")
        if kind == "xlsx":
            return parse_xlsx(data)
        if kind == "xls":
            return ParsedFile(
                encoding="",
                errors=[
                    ParseError(
                        0, gettext_noop("legacy Excel (.xls) files are not accepted: save the list as XLSX or CSV")
                    )
                ],
            )
        if kind == "mt102":
            return parse_mt102(data)
        if kind == "json":
            return parse_json_file(data)
        return parse_csv(data)
    except Exception as exc:  # noqa: BLE001 - never raise on any input
        return ParsedFile(
            encoding="",
            errors=[ParseError(0, gettext_noop("file could not be parsed (%(error)s)"), error=type(exc).__name__)],
        )
