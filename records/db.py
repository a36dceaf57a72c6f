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

from collections.abc import Iterator
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
