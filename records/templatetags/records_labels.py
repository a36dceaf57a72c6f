"""Labels for the records pages, in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Callable

from django import template
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext

from records.formatting import view_label
from records.paging import COUNT_LIMIT

register = template.Library()
register.filter("access_view_label", view_label)


def _column(name: str) -> str:
    return {
        "iin": gettext("IIN"),
        "last_name": gettext("surname"),
        "first_name": gettext("first name"),
        "patronymic": gettext("patronymic"),
        "birth_date": gettext("date of birth"),
        "gender": gettext("gender"),
        "death_date": gettext("date of death"),
    }.get(name, name)


# The reasons ``records.registry.parse_snapshot`` gives for a refused row or file (English, as
# ``manage.py load_registry`` prints them), worded for the registry load page. A reason that
# matches none of them is shown as it is.
_REGISTRY_ERRORS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"expected (?P<n>\d+) columns, found (?P<m>\d+)"),
        lambda m: gettext("%(m)s columns instead of %(n)s.") % m.groupdict(),
    ),
    (
        re.compile(r"iin (?P<value>.*) is not a valid IIN \((?P<code>\w+)\)"),
        lambda m: gettext("The IIN %(value)s is not valid (%(code)s).") % m.groupdict(),
    ),
    (re.compile(r"last_name is empty"), lambda m: gettext("The surname is empty.")),
    (re.compile(r"first_name is empty"), lambda m: gettext("The first name is empty.")),
    (
        re.compile(r"(?P<column>birth_date|death_date) (?P<value>.*) is not an ISO date \(YYYY-MM-DD\)"),
        lambda m: (
            gettext("The %(column)s %(value)s is not a date written YYYY-MM-DD.")
            % {"column": _column(m["column"]), "value": m["value"]}
        ),
    ),
    (
        re.compile(r"(?P<column>\w+) contains a NUL character"),
        lambda m: gettext("The %(column)s contains a NUL character.") % {"column": _column(m["column"])},
    ),
    (
        re.compile(r"(?P<column>\w+) is longer than (?P<width>\d+) characters \((?P<length>\d+)\)"),
        lambda m: (
            gettext("The %(column)s is longer than %(width)s characters (%(length)s).")
            % {"column": _column(m["column"]), "width": m["width"], "length": m["length"]}
        ),
    ),
    (
        re.compile(r"gender (?P<value>.*) is not M or F"),
        lambda m: gettext("The gender %(value)s is neither M nor F.") % m.groupdict(),
    ),
    (
        re.compile(r"death_date is before birth_date"),
        lambda m: gettext("The date of death is before the date of birth."),
    ),
    (
        re.compile(r"iin (?P<iin>\d+) repeats line (?P<line>\d+)"),
        lambda m: gettext("The IIN %(iin)s was already given on line %(line)s.") % m.groupdict(),
    ),
    (
        re.compile(r"not UTF-8 text \(byte (?P<byte>\d+)\)"),
        lambda m: gettext("The file is not UTF-8 text (byte %(byte)s).") % m.groupdict(),
    ),
    (re.compile(r"the file is empty"), lambda m: gettext("The file is empty.")),
    (
        re.compile(r"the header must be (?P<header>.*)"),
        lambda m: gettext("The first line must be the header %(header)s.") % m.groupdict(),
    ),
    (
        re.compile(r"malformed CSV: (?P<error>.*)"),
        lambda m: gettext("The CSV is malformed: %(error)s") % m.groupdict(),
    ),
]


@register.filter
def registry_error_label(reason: str) -> str:
    """A refused registry row's or file's reason in the reader's language."""
    for pattern, word in _REGISTRY_ERRORS:
        match = pattern.fullmatch(str(reason))
        if match:
            return str(capfirst(word(match)))
    return str(reason)


@register.filter
def capped(count: int) -> str:
    """A count from ``records.paging.capped_count``: the number, or "more than 1000" when the
    count stopped at its limit."""
    if count > COUNT_LIMIT:
        return gettext("more than %(n)s") % {"n": formats.number_format(COUNT_LIMIT, force_grouping=True)}
    return formats.number_format(count, force_grouping=True)
