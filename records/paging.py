"""Keyset paging of the long staff lists (payment orders, return documents, refunds, the access
log, a participant's personal account, the participant search).

``OFFSET`` paging reads and throws away every row before the page shown, so the last page of
100 000 orders cost as much as reading them all, and the page count needs a count of every row.
A keyset page instead starts right after (or before) the last row seen, by an index that holds
the list's ordering: every page, the first and the last, reads only its own rows, whatever the
size of the table (docs/performance.md, "Staff pages at national scale"). The price: no
"page 37 of 2 000"; a list says how many rows it has up to ``COUNT_LIMIT`` and "more than" past it.

The position is carried in the query string: ``page=last`` (or ``first``), ``after=`` and
``before=`` a row's key, each name with an optional prefix when a page has two lists. A key
that cannot be read is answered with the first page, as Django's ``get_page`` answers a page
number it cannot read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression, F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import HttpRequest

COUNT_LIMIT = 1000  # rows counted at most; past it a list says "more than"

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Key:
    """One column of a list's ordering: a field name or an expression (named ``name`` in the
    query), and how its values travel in a URL."""

    name: str
    expression: Expression | F
    kind: type  # int, str, date, datetime or Decimal

    @classmethod
    def field(cls, name: str, kind: type) -> Key:
        return cls(name=name, expression=F(name), kind=kind)


def _encode(values: Sequence[Any]) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, date) else str(value) for value in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(token: str, keys: Sequence[Key]) -> list[Any] | None:
    """The values of a key from the URL, each of its column's type; ``None`` if it is not one."""
    if not token or len(token) > 500:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys) or not all(isinstance(v, str) for v in raw):
            return None
        values: list[Any] = []
        for key, value in zip(keys, raw, strict=True):
            if key.kind is datetime:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    return None
                values.append(moment)
            elif key.kind is date:
                values.append(date.fromisoformat(value))
            elif key.kind is int:
                number = int(value)
                if not -(2**63) <= number < 2**63:
                    return None
                values.append(number)
            elif key.kind is Decimal:
                values.append(Decimal(value))
            else:
                if "\x00" in value:
                    return None
                values.append(value)
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, ArithmeticError):
        return None


def _beyond(keys: Sequence[Key], values: Sequence[Any], *, descending: bool) -> Q:
    """Rows after ``values`` in the list's order: ``(k1, k2, …) > (v1, v2, …)`` (or ``<``),
    written as a bound on the first column, which an index range scan uses, and the exact
    lexicographic condition that settles ties."""
    strict, loose = ("lt", "lte") if descending else ("gt", "gte")
    exact = Q()
    for position in range(len(keys) - 1, -1, -1):
        key, value = keys[position], values[position]
        step = Q(**{f"{key.name}__{strict}": value})
        exact = step if position == len(keys) - 1 else step | (Q(**{key.name: value}) & exact)
    return Q(**{f"{keys[0].name}__{loose}": values[0]}) & exact


@dataclass
class KeysetPage(Generic[M]):
    """A page of a keyset-paged list: its rows and the query strings of its neighbours."""

    object_list: list[M]
    count: int  # rows of the whole list, at most COUNT_LIMIT + 1
    is_first: bool
    is_last: bool
    first_query: str
    last_query: str
    previous_query: str
    next_query: str

    @property
    def count_is_exact(self) -> bool:
        return self.count <= COUNT_LIMIT

    @property
    def count_limit(self) -> int:
        return COUNT_LIMIT

    @property
    def has_other_pages(self) -> bool:
        return not (self.is_first and self.is_last)


def capped_count(queryset: QuerySet[Any]) -> int:
    """How many rows, counted up to ``COUNT_LIMIT + 1``: a count that stops early instead of
    reading a whole index (``SELECT count(*) FROM (SELECT … LIMIT n)``)."""
    return queryset.order_by()[: COUNT_LIMIT + 1].count()


def keyset_page(
    request: HttpRequest,
    queryset: QuerySet[M],
    keys: Sequence[Key],
    *,
    descending: bool,
    per_page: int,
    prefix: str = "",
) -> KeysetPage[M]:
    """The page of ``queryset`` (ordered by ``keys``, all ascending or all descending, the last
    one unique) that the request's query string asks for. Reads ``per_page + 1`` rows (the one
    more says whether there is a next page) and a capped count."""
    params = request.GET
    page_name, after_name, before_name = f"{prefix}page", f"{prefix}after", f"{prefix}before"
    expressions = {key.name: key.expression for key in keys if not isinstance(key.expression, F)}
    annotated: QuerySet[M] = queryset.annotate(**expressions)

    def ordered(reverse: bool) -> QuerySet[M]:
        down = descending != reverse
        return annotated.order_by(*(OrderBy(F(key.name), descending=down) for key in keys))

    def forward(bound: list[Any] | None) -> tuple[list[M], bool, bool]:
        rows = ordered(False)
        if bound is not None:
            rows = rows.filter(_beyond(keys, bound, descending=descending))
        found = list(rows[: per_page + 1])
        return found[:per_page], bound is None, len(found) <= per_page

    def backward(bound: list[Any] | None) -> tuple[list[M], bool, bool]:
        rows = ordered(True)
        if bound is not None:
            rows = rows.filter(_beyond(keys, bound, descending=not descending))
        found = list(rows[: per_page + 1])
        return found[:per_page][::-1], len(found) <= per_page, bound is None

    after = _decode(params.get(after_name, ""), keys)
    before = None if after is not None else _decode(params.get(before_name, ""), keys)
    if after is not None:
        rows, is_first, is_last = forward(after)
        if not rows:  # nothing after it (the rows it followed are gone): the last page
            rows, is_first, is_last = backward(None)
    elif before is not None:
        rows, is_first, is_last = backward(before)
        if not rows:  # nothing before it: the first page
            rows, is_first, is_last = forward(None)
    elif params.get(page_name) == "last":
        rows, is_first, is_last = backward(None)
    else:
        rows, is_first, is_last = forward(None)

    def query(**position: str) -> str:
        names = (page_name, after_name, before_name)
        kept = [(name, value) for name in params if name not in names for value in params.getlist(name)]
        return urlencode([*kept, *position.items()])

    def key_of(row: M) -> str:
        return _encode([_value(row, key) for key in keys])

    return KeysetPage(
        object_list=rows,
        count=capped_count(queryset),
        is_first=is_first,
        is_last=is_last,
        first_query=query(),
        last_query=query(**{page_name: "last"}),
        previous_query=query(**{before_name: key_of(rows[0])}) if rows and not is_first else "",
        next_query=query(**{after_name: key_of(rows[-1])}) if rows and not is_last else "",
    )


def _value(row: Model, key: Key) -> Any:
    if isinstance(key.expression, F):
        value: Any = row
        for part in key.expression.name.split("__"):
            value = getattr(value, part)
        return value
    return getattr(row, key.name)


def capped_counts(queryset: QuerySet[Any], field: str, values: Sequence[str]) -> dict[str, int]:
    """How many rows have each of ``values`` in ``field``, each counted up to
    ``COUNT_LIMIT + 1``, in one query (a ``UNION ALL`` of capped counts): the status counts
    above a list, which otherwise read every row of the table."""
    parts, params = [], []
    for value in values:
        capped = queryset.filter(**{field: value}).order_by().values("pk")[: COUNT_LIMIT + 1]
        try:
            sql, inner = capped.query.sql_with_params()
        except EmptyResultSet:  # none() or a filter that excludes every row: nothing to count
            continue
        parts.append(f"SELECT %s, (SELECT count(*) FROM ({sql}) AS capped)")
        params.extend([value, *inner])
    if not parts:
        return {}
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {value: count for value, count in cursor.fetchall() if count}
