"""Direct PostgreSQL access for the few hot statements of the pipeline.

Django's psycopg cursors bind parameters on the client: an array of a hundred IINs is quoted
element by element in Python and sent as a long SQL literal that PostgreSQL parses on every
call. ``bound_cursor`` gives a psycopg cursor on the same connection and transaction that sends
the parameters separately (server-side binding). Statements are not prepared: Django turns
psycopg's automatic preparation off, and a generic plan chosen while a table is small would
stay when it has grown.

Database errors are raised as Django's (``django.db.OperationalError`` etc.), as from any
Django cursor, so retry policies and connection health checks see them. What it bypasses is
Django's execute wrappers: django-pghistory cannot attach its context to these statements, so
use it only inside a transaction whose history context a Django cursor statement has already
set (pghistory sets it with ``set_config(..., is_local => true)``; it lasts until the
transaction ends). Note that pghistory skips statements that begin with ``SELECT``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection


@contextmanager
def bound_cursor() -> Iterator[psycopg.Cursor[tuple[Any, ...]]]:
    """A server-side-binding cursor on Django's current connection (and transaction)."""
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


_NUMBERS = re.compile(r"(?:[0-9]+(?:,[0-9]+)*)?")
_CODES = re.compile(r'(?:(?:""|[a-z_]+)(?:,(?:""|[a-z_]+))*)?')


def number_array(values: Iterable[int | str]) -> str | None:
    """A PostgreSQL array literal (``{1,2,3}``) of non-negative integers or digit strings such as
    IINs, to send as one text parameter cast in SQL (``%s::bigint[]``, ``%s::text[]``); None
    when a value is not all digits. psycopg's own array dumping inspects every element in Python
    (a regular-expression search per element), which costs more than the rest of an order's
    statement; this is one join and one check."""
    items = [str(value) for value in values]
    text = ",".join(items)
    if _NUMBERS.fullmatch(text) and text.count(",") == max(len(items) - 1, 0):  # no comma inside a value
        return "{" + text + "}"
    return None


def code_array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of codes (lower-case letters and underscores) or empty strings,
    as ``number_array``; raises ValueError on anything else."""
    items = [value or '""' for value in values]
    text = ",".join(items)
    if not _CODES.fullmatch(text) or text.count(",") != max(len(items) - 1, 0):
        raise ValueError("only codes of lower-case letters and underscores, or empty strings")
    return "{" + text + "}"
