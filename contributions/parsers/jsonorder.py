"""A payment order given to the API as a JSON body (already decoded by the caller)::

    {"reference", "number", "document_date": "YYYY-MM-DD",
     "payer": {"idn", "name", "account", "bic" (optional)}, "payee": {"idn", "bic", "account"},
     "knp", "total", "currency" (optional, KZT by default), "value_date": "YYYY-MM-DD",
     "lines": [{"iin", "last_name", "first_name", "patronymic", "birth_date": "YYYY-MM-DD",
                "period": "YYYY-MM", "amount"}]}

Missing or ill-typed fields become ``ParseError`` entries (line 0) whose message starts with the
JSON path (``payer.idn``, ``lines[3].amount``; list indexes are 0-based). Amounts are strings
(``"7000.00"``, a comma also works) or numbers: integers, or floats with at most two decimals.
As elsewhere, values that are present but wrong for the line checks (an invalid IIN, a
non-positive amount, an unreal period, a birth date that is not a date) are kept, not errors.
Never raises.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_noop

from contributions.parsers.base import ParsedFile, ParsedLine, ParsedOrder, ParseError
from contributions.parsers.mt102 import MAX_AMOUNT_DIGITS, clean_name, parse_amount, parse_period
from contributions.problems import storable

__all__ = ["parse_json_file", "parse_json_order"]

_MISSING = object()
_CENT = Decimal("0.01")


class _Reader:
    def __init__(self, errors: list[ParseError]) -> None:
        self.errors = errors

    def error(self, path: str, message: str | ParseError, **params: Any) -> None:
        """``path: message``; ``message`` is a template (with ``params``) or a ready problem."""
        problem = message if isinstance(message, ParseError) else ParseError(0, message, **params)
        self.errors.append(ParseError(0, gettext_noop("%(path)s: %(problem)s"), path=path, problem=problem))

    def string(
        self,
        obj: Mapping[str, object],
        key: str,
        path: str,
        *,
        required: bool = True,
        non_empty: bool = False,
        allow_int: bool = False,
    ) -> str:
        value = obj.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.error(path, gettext_noop("missing"))
            return ""
        if allow_int and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.error(path, gettext_noop("expected a string, got %(type)s"), type=type(value).__name__)
            return ""
        if non_empty and not value.strip():
            self.error(path, gettext_noop("empty"))
        return storable(value.strip())

    def day(self, obj: Mapping[str, object], key: str, path: str, *, required: bool = True) -> date | None:
        """An ISO date. For an order date a value that is not a date is an error; for a
        line's birth date (``required=False``) it is kept as None for the line check."""
        text = self.string(obj, key, path, required=required, non_empty=required)
        if not text:
            return None
        parsed = iso_date(text)
        if parsed is None and required:
            self.error(path, gettext_noop("%(value)s is not a date (YYYY-MM-DD)"), value=repr(text[:30]))
        return parsed

    def money(self, obj: Mapping[str, object], key: str, path: str) -> Decimal | None:
        value = obj.get(key, _MISSING)
        if value is _MISSING or value is None:
            self.error(path, gettext_noop("missing"))
            return None
        if isinstance(value, bool):
            self.error(path, gettext_noop("expected a number or a string, got %(type)s"), type="bool")
            return None
        if isinstance(value, int):
            if abs(value) >= 10**MAX_AMOUNT_DIGITS:
                self.error(path, gettext_noop("out of range"))
                return None
            return Decimal(value).quantize(_CENT)
        if isinstance(value, float):
            if not math.isfinite(value) or abs(value) >= 10.0**MAX_AMOUNT_DIGITS:
                self.error(path, gettext_noop("out of range"))
                return None
            exact = Decimal(repr(value))
            exponent = exact.as_tuple().exponent
            if isinstance(exponent, int) and exponent < -2:
                self.error(path, gettext_noop("%(value)s has more than two decimals"), value=repr(value))
                return None
            return exact.quantize(_CENT)
        if isinstance(value, str):
            amount, reason = parse_amount(value)
            if reason is not None:
                self.error(path, reason)
            return amount
        self.error(path, gettext_noop("expected a number or a string, got %(type)s"), type=type(value).__name__)
        return None

    def mapping(self, obj: Mapping[str, object], key: str, path: str) -> Mapping[str, object]:
        value = obj.get(key, _MISSING)
        if value is _MISSING or value is None:
            self.error(path, gettext_noop("missing"))
            return {}
        if not isinstance(value, dict):
            self.error(path, gettext_noop("expected an object, got %(type)s"), type=type(value).__name__)
            return {}
        return value


def iso_date(text: str) -> date | None:
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _line(reader: _Reader, item: object, index: int) -> ParsedLine | None:
    path = f"lines[{index}]"
    if not isinstance(item, dict):
        reader.error(path, gettext_noop("expected an object, got %(type)s"), type=type(item).__name__)
        return None
    period_text = reader.string(item, "period", f"{path}.period", required=False)
    return ParsedLine(
        sequence=index + 1,
        file_line=0,
        iin=reader.string(item, "iin", f"{path}.iin"),
        last_name=clean_name(reader.string(item, "last_name", f"{path}.last_name")),
        first_name=clean_name(reader.string(item, "first_name", f"{path}.first_name")),
        patronymic=clean_name(reader.string(item, "patronymic", f"{path}.patronymic", required=False)),
        birth_date=reader.day(item, "birth_date", f"{path}.birth_date", required=False),
        period=parse_period(period_text),
        period_text=period_text,
        amount=reader.money(item, "amount", f"{path}.amount"),
    )


def _fill(order: ParsedOrder, data: object) -> None:
    reader = _Reader(order.errors)
    if not isinstance(data, dict):
        reader.error("body", gettext_noop("expected a JSON object, got %(type)s"), type=type(data).__name__)
        return
    order.reference = reader.string(data, "reference", "reference", non_empty=True)
    order.number = reader.string(data, "number", "number", non_empty=True, allow_int=True)
    order.document_date = reader.day(data, "document_date", "document_date")
    payer = reader.mapping(data, "payer", "payer")
    if payer:
        order.payer_idn = reader.string(payer, "idn", "payer.idn", non_empty=True)
        order.payer_name = clean_name(reader.string(payer, "name", "payer.name", non_empty=True))
        order.payer_account = reader.string(payer, "account", "payer.account", non_empty=True)
        # Optional: the payer's bank, needed only to address a return payment (its MT102 ``:57B:``).
        order.payer_bic = reader.string(payer, "bic", "payer.bic", required=False)
    payee = reader.mapping(data, "payee", "payee")
    if payee:
        order.payee_idn = reader.string(payee, "idn", "payee.idn", non_empty=True)
        order.payee_bic = reader.string(payee, "bic", "payee.bic", non_empty=True)
        order.payee_account = reader.string(payee, "account", "payee.account", non_empty=True)
    order.knp = reader.string(data, "knp", "knp", non_empty=True)
    order.total = reader.money(data, "total", "total")
    order.value_date = reader.day(data, "value_date", "value_date")
    # Optional: an order in any other currency than the default KZT needs review.
    order.currency = reader.string(data, "currency", "currency", required=False, non_empty=True).upper() or "KZT"
    lines = data.get("lines", _MISSING)
    if lines is _MISSING or lines is None:
        reader.error("lines", gettext_noop("missing"))
    elif not isinstance(lines, list):
        reader.error("lines", gettext_noop("expected a list, got %(type)s"), type=type(lines).__name__)
    else:
        for index, item in enumerate(lines):
            line = _line(reader, item, index)
            if line is not None:
                order.lines.append(line)


def parse_json_order(data: object) -> ParsedOrder:
    """The order of a JSON body (``json.loads`` output). Never raises."""
    order = ParsedOrder(first_line=0)
    try:
        _fill(order, data)
    except Exception as exc:  # noqa: BLE001 - never raise on any input
        order.errors.append(
            ParseError(0, gettext_noop("body could not be parsed (%(error)s)"), error=type(exc).__name__)
        )
    return order


def parse_json_file(raw: bytes) -> ParsedFile:
    """A JSON body or file: one order, either the order itself or ``{"order": {...}, ...}`` (the
    API's envelope, which may also carry ``received``). A body that is not JSON gives a problem
    naming where it breaks, and its order needs review. Never raises."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, too deep, too long a number
        return ParsedFile(encoding="utf-8", errors=[_json_problem(raw, exc)])
    order = data.get("order", data) if isinstance(data, dict) else data
    return ParsedFile(encoding="utf-8", orders=[parse_json_order(order)])


def _json_problem(raw: bytes, exc: Exception) -> ParseError:
    """Where a body that is not JSON breaks, as the line of the file it concerns."""
    if isinstance(exc, json.JSONDecodeError):
        return ParseError(
            exc.lineno, gettext_noop("not valid JSON (column %(column)s): %(error)s"), column=exc.colno, error=exc.msg
        )
    if isinstance(exc, UnicodeDecodeError):
        line = raw[: exc.start].count(b"\n") + 1
        return ParseError(line, gettext_noop("not valid JSON: the body is not UTF-8 text"))
    return ParseError(0, gettext_noop("not valid JSON: %(error)s"), error=type(exc).__name__)
