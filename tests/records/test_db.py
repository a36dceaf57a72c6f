"""records.db.bound_cursor: server-side binding on Django's connection, Django's errors."""

from __future__ import annotations

import pytest
from django.db import DataError, OperationalError, connection, transaction

from records.db import bound_cursor, code_array, number_array

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


@pytest.mark.parametrize(
    ("values", "cast", "expected"),
    [
        ([1, 22, 333], "bigint[]", [1, 22, 333]),
        (["840514386968", "000000000001"], "text[]", ["840514386968", "000000000001"]),
        ([], "bigint[]", []),
    ],
)
def test_number_arrays_travel_as_one_literal(values: list[object], cast: str, expected: list[object]) -> None:
    literal = number_array(values)  # type: ignore[arg-type]
    assert isinstance(literal, str)
    with bound_cursor() as cursor:
        cursor.execute(f"SELECT %s::{cast}", [literal])
        assert cursor.fetchone() == (expected,)


@pytest.mark.parametrize("value", ["84051438696x", "1,2", "-1", "{1}", "1 ", '"', "١٢٣", ""])
def test_anything_but_digits_is_refused_by_number_array(value: str) -> None:
    """The caller then sends a list (psycopg quotes it): nothing is ever spliced unchecked."""
    assert number_array(["123", value]) is None


def test_code_arrays_keep_empty_strings_and_refuse_anything_else() -> None:
    with bound_cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [code_array(["", "invalid_iin", "", "deceased"])])
        assert cursor.fetchone() == (["", "invalid_iin", "", "deceased"],)
    for bad in ['a"b', "A", "a,b", "a}", "1"]:
        with pytest.raises(ValueError, match="only codes"):
            code_array(["ok", bad])
