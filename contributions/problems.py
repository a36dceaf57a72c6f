"""What is wrong with an incoming order, stored so that each reader sees it in his language.

The conventions ("Incoming payment orders") send an order that is wrong as a whole to
``needs_review`` and keep the raw message; the staff member who resolves it must read why, on a
page in Kazakh, Russian or English. So a problem is stored as its English message template (the
gettext msgid, marked with ``gettext_noop``) with its parameters and the line of the file it
concerns, and is worded only when shown: in the reader's language on the pages, in English (the
stable wording) in ``ingest --json`` and the API. A parameter may itself be a problem (an amount
parser's reason inside ``:32B: ...``) and is worded the same way. An amount (``Amount``) is stored
as its plain figure and written as the reader's language writes money (``35 000,00`` on a kk/ru
page, ``35000.00`` in English output).

Rows stored before problems had templates hold plain English strings; they are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop

LINE_PREFIX = gettext_noop("line %(line)s: %(message)s")


@dataclass(frozen=True)
class Amount:
    """A sum of money inside a problem, e.g. the order total."""

    value: Decimal

    def as_json(self) -> dict[str, str]:
        return {"amount": f"{self.value:.2f}"}


class Problem:
    """A problem at a line of the file (``line`` 1-based; 0 when it concerns the file or the
    body as a whole). ``template`` is an English gettext msgid with ``%(name)s`` placeholders."""

    __slots__ = ("line", "params", "template")

    def __init__(self, line: int, template: str, /, **params: Any) -> None:
        self.line = line
        self.template = template
        self.params = params

    @property
    def message(self) -> str:
        """The English wording, without the line."""
        return _fill(self.template, self.params, translate=False)

    def __str__(self) -> str:
        return word(self.as_json(), translate=False)

    def __repr__(self) -> str:
        return f"Problem({self.line}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.line, self.template, self.params) == (other.line, other.template, other.params)

    def __hash__(self) -> int:
        return hash((self.line, self.template))

    def as_json(self) -> dict[str, Any]:
        """How the problem is stored in ``PaymentOrder.errors``."""
        return {
            "line": self.line,
            "message": self.template,
            "params": {k: _storable_param(v) for k, v in self.params.items()},
        }


def _storable_param(value: Any) -> Any:
    if isinstance(value, (Problem, Amount)):
        return value.as_json()
    return storable(value) if isinstance(value, str) else value


def _fill(template: str, params: dict[str, Any], *, translate: bool) -> str:
    """The template (translated or not) with its parameters. A translation that does not fit the
    parameters falls back to the English template; parameters that fit neither (a template
    reworded since the row was stored) are shown after the template as they are, never an error
    on the page."""
    values = {k: _word_param(v, translate=translate) for k, v in params.items()}
    candidates = [gettext(template), template] if translate else [template]
    for text in candidates:
        try:
            return text % values if values else text
        except (KeyError, ValueError, TypeError):
            continue
    shown = ", ".join(f"{k}={v}" for k, v in values.items())
    return f"{template} ({shown})" if shown else template


def _word_param(value: Any, *, translate: bool) -> Any:
    if isinstance(value, Problem):
        return _fill(value.template, value.params, translate=translate)
    if isinstance(value, Amount):
        value = value.as_json()
    if isinstance(value, dict) and set(value) == {"amount"}:
        figure = str(value["amount"])
        if not translate:
            return figure
        try:
            return number_format(Decimal(figure), decimal_pos=2, force_grouping=True)
        except ArithmeticError:
            return figure
    if isinstance(value, dict) and "message" in value:
        return _fill(str(value["message"]), dict(value.get("params") or {}), translate=translate)
    return value


def word(entry: Any, *, translate: bool = True) -> str:
    """One stored problem as text, naming its line: in the active language, or in English."""
    if isinstance(entry, Problem):
        entry = entry.as_json()
    if not isinstance(entry, dict):
        return str(entry)  # stored before problems had templates
    message = _fill(str(entry.get("message", "")), dict(entry.get("params") or {}), translate=translate)
    line = entry.get("line") or 0
    if not line:
        return message
    return _fill(LINE_PREFIX, {"line": line, "message": message}, translate=translate)


def storable(value: str) -> str:
    """Text that PostgreSQL can store (no NUL, no lone surrogate from a JSON escape)."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


# The most problems kept for one order or file: a reviewer reads the first ones, and megabytes of
# garbage after a message must not store tens of thousands of them.
MAX_PROBLEMS = 100


def capped(problems: list[Problem], limit: int = MAX_PROBLEMS) -> list[Problem]:
    """The first ``limit`` problems and, when there are more, one that counts the others (at the
    line of the first one left out)."""
    if len(problems) <= limit:
        return list(problems)
    left_out = problems[limit:]
    summary = Problem(left_out[0].line, gettext_noop("%(count)s further problems are not listed"), count=len(left_out))
    return [*problems[:limit], summary]


def stored(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as ``PaymentOrder.errors`` stores them, at most ``MAX_PROBLEMS`` (``capped``)."""
    return [problem.as_json() for problem in capped(problems)]
