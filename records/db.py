"""Direct PostgreSQL access for the few hot statements of the pipeline.

Django's psycopg cursors bind parameters on the client: an array of a hundred IINs is quoted
element by element in Python and sent as a long SQL literal that PostgreSQL parses and plans on
every call. ``bound_cursor`` gives a psycopg cursor on the same connection and transaction that
sends parameters separately, and psycopg prepares a statement once it has run a few times.

It bypasses Django's execute wrappers, so django-pghistory cannot attach its context to the
statement itself. Use it inside a transaction whose context is already set: pghistory sets it
with ``set_config(..., is_local => true)`` on the first statement run through a Django cursor
in the transaction, and the setting lasts until the transaction ends.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import connection


def bound_cursor() -> psycopg.Cursor[tuple[Any, ...]]:
    """A server-side-binding cursor on Django's current connection (and transaction)."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)
