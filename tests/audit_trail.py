"""Test set-up that must place audit events in time or clear the access log, which the database
refuses to the application (records.audit_chain)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def triggers_off() -> Iterator[None]:
    """The statements inside run with this session's triggers off (the test role is a
    superuser), as the table owner could; the test's transaction is never committed, so the
    chain never sees them. Triggers are back on afterwards, foreign-key checks included."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")
