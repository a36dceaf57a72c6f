"""records.db.bound_cursor: server-side binding on Django's connection, Django's errors."""

from __future__ import annotations

import pytest
from django.db import DataError, OperationalError, connection, transaction

from records.db import bound_cursor

pytestmark = pytest.mark.django_db


def test_it_shares_django_s_transaction_and_binds_arrays_as_parameters() -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE t (x text) ON COMMIT DROP")
        with bound_cursor() as cursor:
            cursor.execute("INSERT INTO t SELECT unnest(%s::text[])", [["a", "b'c", "д"]])
        with connection.cursor() as cursor:
            cursor.execute("SELECT array_agg(x ORDER BY x) FROM t")
            assert cursor.fetchone()[0] == ["a", "b'c", "д"]


def _timed_out() -> None:
    with transaction.atomic(), bound_cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(0.2)")


def test_database_errors_leaving_the_block_come_out_as_django_s() -> None:
    """So that the order task's retry policy (django.db.OperationalError) sees them."""
    with pytest.raises(DataError), transaction.atomic(), bound_cursor() as cursor:
        cursor.execute("SELECT 1 / %s", [0])
    with pytest.raises(OperationalError):
        _timed_out()
