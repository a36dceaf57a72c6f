"""``manage.py bench_export`` (issue 19): N synthetic ledger rows, the streamed export of them
(``records.exports``, as an export job writes it) next to django-import-export's export of the
same rows (the ledger admin's own resource and CSV format), time and peak memory of each.

The rows are made set-based in the current transaction (``INSERT … SELECT generate_series``,
no Python per row), which the command rolls back: participants with valid IINs (one per 20
entries), one incoming file, payment orders of 100 lines from a few hundred payers, the lines
and one ledger entry per line. The tests use the same builder for their larger sets.
"""

from __future__ import annotations

import os
import resource
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import connection

from contributions.benchmarks.pages import _check_digit, payer_bins
from contributions.models import IncomingFile, OrderStatus, PaymentOrder

LINES_PER_ORDER = 100
ENTRIES_PER_PERSON = 20
PAYERS = 300
BIRTH_DAYS = (date(2006, 12, 31) - date(1950, 1, 1)).days + 1
SURNAMES = ("АХМЕТОВ", "ИВАНОВ", "ЖУМАБАЕВ", "=СЕРИКОВ", "КИМ", "ӘБІЛҚАСЫМОВ")  # one starts like a formula
FIRST_NAMES = ("АЙДАР", "ИВАН", "ЕРЛАН", "АСХАТ", "НҰРЛАН")
RECEIVED = date(2024, 3, 15)


@dataclass(frozen=True)
class Built:
    rows: int
    participants: int
    orders: int
    first_entry_id: int


def build_ledger(rows: int) -> Built:
    """``rows`` ledger entries (with their participants, orders and lines) in the current
    transaction; returns what was made. Each entry's id is above every id before it
    (``first_entry_id`` is the first of them)."""
    people = max(2, rows // ENTRIES_PER_PERSON)
    orders = max(1, -(-rows // LINES_PER_ORDER))
    tag = uuid.uuid4().hex[:12]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS _bench_people")
        cursor.execute("CREATE TEMP TABLE _bench_people (n bigint PRIMARY KEY, id bigint NOT NULL) ON COMMIT DROP")
        cursor.execute(_participants_sql(people))
        cursor.execute("SELECT count(*) FROM _bench_people")
        people = int(cursor.fetchone()[0])
    file = IncomingFile.objects.create(
        door="command",
        file_name=f"bench-{tag}.mt102",
        raw=b"",
        sha256="0" * 64,
        size=0,
        received=RECEIVED,
        submitted_label="bench_export",
    )
    payers = payer_bins(PAYERS)
    made = PaymentOrder.objects.bulk_create(
        [
            PaymentOrder(
                file=file,
                position=o + 1,
                reference=f"BX{tag[:8]}{o:08d}",
                number=str(o + 1),
                payer_idn=payers[o % len(payers)],
                payer_name=f"ТОО БЕНЧ {o % len(payers)}",
                knp="012",
                received=RECEIVED,
                status=OrderStatus.POSTED,
                key=f"bench-{tag}-{o}",
                lines_total=LINES_PER_ORDER,
                lines_posted=LINES_PER_ORDER,
            )
            for o in range(orders)
        ],
        batch_size=2_000,
    )
    first_order = min(order.pk for order in made)
    if max(order.pk for order in made) - first_order + 1 != orders:
        raise RuntimeError("the orders' ids are not contiguous (another session inserted orders): run again")
    with connection.cursor() as cursor:
        cursor.execute(_lines_sql(rows, first_order, people))
        # The planner's statistics do not know the rows this transaction made: tell it.
        cursor.execute("ANALYZE _bench_people, contributions_paymentorder, contributions_orderline")
        cursor.execute(_entries_sql(rows, first_order, people))
        cursor.execute("ANALYZE records_participant, contributions_ledgerentry")
        cursor.execute("SELECT min(id) FROM contributions_ledgerentry WHERE order_id >= %s", [first_order])
        first_entry_id = int(cursor.fetchone()[0])
    return Built(rows=rows, participants=people, orders=orders, first_entry_id=first_entry_id)


def _participants_sql(count: int) -> str:
    candidates = count + count // 20 + 100
    surnames = "ARRAY[" + ", ".join(f"'{s}'" for s in SURNAMES) + "]"
    first = "ARRAY[" + ", ".join(f"'{s}'" for s in FIRST_NAMES) + "]"
    return f"""
    WITH candidate AS (
        SELECT n, date '1950-01-01' + (n % {BIRTH_DAYS})::int AS birth, (n / {BIRTH_DAYS}) % 2 = 0 AS male,
               9000 + (n / {BIRTH_DAYS} / 2) % 1000 AS serial
        FROM generate_series(0, {candidates}::bigint) AS n
    ), numbered AS (
        SELECT n, birth, male,
               to_char(birth, 'YYMMDD')::bigint * 100000
               + (CASE WHEN birth < date '2000-01-01' THEN 3 ELSE 5 END + CASE WHEN male THEN 0 ELSE 1 END) * 10000
               + serial AS first11
        FROM candidate
    ), valid AS (
        SELECT n, birth, male, lpad((first11 * 10 + {_check_digit("first11")})::text, 12, '0') AS iin
        FROM numbered WHERE {_check_digit("first11")} IS NOT NULL
    ), chosen AS (
        SELECT * FROM valid v
        WHERE NOT EXISTS (SELECT 1 FROM records_participant p WHERE p.iin = v.iin)
        ORDER BY n LIMIT {count}
    ), inserted AS (
        INSERT INTO records_participant (iin, last_name, first_name, patronymic, birth_date, gender, address,
            postal_code, id_document_series, id_document_number, id_document_issuer, citizenship,
            created_at, updated_at)
        SELECT iin, ({surnames})[1 + n % {len(SURNAMES)}], ({first})[1 + n % {len(FIRST_NAMES)}],
               CASE WHEN n % 7 = 0 THEN '' ELSE 'БЕНЧОВИЧ' END, birth, CASE WHEN male THEN 'M' ELSE 'F' END,
               '', '', '', '', '', '', now(), now()
        FROM chosen
        RETURNING id
    )
    INSERT INTO _bench_people (n, id) SELECT row_number() OVER (ORDER BY id) - 1, id FROM inserted
    """


def _amount(j: str) -> str:
    return f"(3000 + (({j}) * 37) % 9000 + (({j}) * 13) % 100 / 100.0)::numeric(16, 2)"


def _lines_sql(rows: int, first_order: int, people: int) -> str:
    return f"""
    INSERT INTO contributions_orderline (order_id, sequence, file_line, iin, last_name, first_name, patronymic,
        birth_date, period, period_text, amount, status, reason)
    SELECT {first_order} + j / {LINES_PER_ORDER}, j % {LINES_PER_ORDER} + 1, j % {LINES_PER_ORDER} + 2,
           p.iin, p.last_name, p.first_name, p.patronymic, p.birth_date,
           (date '2024-02-01' - make_interval(months => (j % 24)::int))::date, '', {_amount("j")}, 'posted', ''
    FROM generate_series(0, {rows - 1}::bigint) AS j
    JOIN _bench_people b ON b.n = (j * 7919) % {people}
    JOIN records_participant p ON p.id = b.id
    ORDER BY j
    """


def _entries_sql(rows: int, first_order: int, people: int) -> str:
    """One entry per line made above, each found by its key (order, sequence) and its person by
    the same formula: index lookups only, whatever the statistics of the rows just inserted."""
    return f"""
    INSERT INTO contributions_ledgerentry (participant_id, period, kind, amount, payer_idn, order_id, line_id,
        received, posted_at, corrects_id)
    SELECT b.id, l.period, 'contribution', l.amount, o.payer_idn, o.id, l.id, o.received, now(), NULL
    FROM generate_series(0, {rows - 1}::bigint) AS j
    JOIN _bench_people b ON b.n = (j * 7919) % {people}
    JOIN contributions_paymentorder o ON o.id = {first_order} + j / {LINES_PER_ORDER}
    JOIN contributions_orderline l ON l.order_id = o.id AND l.sequence = j % {LINES_PER_ORDER} + 1
    ORDER BY j
    """


# --- Measuring ---------------------------------------------------------------------------------


class PeakMemory:
    """The process's peak resident memory during a block: the kernel's high-water mark
    (``VmHWM``) reset before it by writing 5 to ``/proc/self/clear_refs``. Where that cannot be
    reset, Python's own allocations (tracemalloc) are measured instead; ``method`` says which."""

    def __init__(self) -> None:
        self.method = "rss_hwm" if _can_reset_hwm() else "tracemalloc"

    @contextmanager
    def measure(self) -> Iterator[dict[str, float]]:
        result: dict[str, float] = {}
        if self.method == "rss_hwm":
            _reset_hwm()
            before = _status_kb("VmRSS")
            yield result
            result["peak_mb"] = _status_kb("VmHWM") / 1024
            result["start_mb"] = before / 1024
        else:
            tracemalloc.start()
            tracemalloc.reset_peak()
            yield result
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            result["peak_mb"] = peak / 1024 / 1024
            result["start_mb"] = 0.0


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _reset_hwm() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _can_reset_hwm() -> bool:
    try:
        _reset_hwm()
    except OSError:
        return False
    return os.path.exists("/proc/self/status")


def timed(memory: PeakMemory, work: Callable[[], int]) -> dict[str, Any]:
    with memory.measure() as peak:
        started = time.perf_counter()
        rows = work()
        seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": round(seconds, 2), "peak_mb": round(peak["peak_mb"], 1),
            "start_mb": round(peak["start_mb"], 1)}  # fmt: skip
