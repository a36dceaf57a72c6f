"""``manage.py bench_audit_chain [--rows N]``: what the audit trail's hash chain costs
(``records.audit_chain``), measured in one run against a baseline, printed as one JSON line.

- **baseline**: N audit events inserted into a table of the same shape without triggers (a
  temporary copy of ``records_auditevent``): what writing the events costs anyway;
- **sealed**: the same N events inserted into ``records_auditevent`` with the seal made at the
  end of the statement, and the chain's head written after it (``SET CONSTRAINTS … IMMEDIATE``),
  instead of at commit: the same work the commit does, timed;
- **verify**: ``verify_chain`` walking the chain with the N events in it (in Python, as the
  nightly check does), with the process's peak memory.

Everything happens in one transaction that is rolled back: the audit trail is append-only, and
a benchmark must leave nothing in it.
"""

from __future__ import annotations

import json
import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from records.audit_chain import CHAINS, verify_chain

_INSERT = """
INSERT INTO {table} (actor_label, action, object_pk, data, created_at)
SELECT 'bench', 'bench.event', g::text, jsonb_build_object('n', g, 'source', 'bench_audit_chain'), now()
FROM generate_series(1, %s) AS g
"""


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark sealing and verifying the audit chain against unsealed inserts (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000)

    def handle(self, *args: Any, rows: int, **options: Any) -> None:
        if rows < 1:
            raise CommandError("--rows must be at least 1")
        result: dict[str, Any] = {"rows": rows}
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM records_auditevent")
                before = cursor.fetchone()[0]
                cursor.execute("CREATE TEMP TABLE bench_unsealed (LIKE records_auditevent INCLUDING ALL)")
                started = time.perf_counter()
                cursor.execute(_INSERT.format(table="bench_unsealed"), [rows])
                result["baseline_insert_s"] = round(time.perf_counter() - started, 3)

                cursor.execute("SET CONSTRAINTS records_auditevent_seal IMMEDIATE")
                started = time.perf_counter()
                cursor.execute(_INSERT.format(table="records_auditevent"), [rows])
                cursor.execute("SET CONSTRAINTS records_auditchainhead_write IMMEDIATE")  # and the head, once
                sealed = time.perf_counter() - started
                result["sealed_insert_s"] = round(sealed, 3)
                result["seal_ms_per_event"] = round(1000 * (sealed - result["baseline_insert_s"]) / rows, 4)
                result["slowdown"] = round(sealed / max(result["baseline_insert_s"], 1e-6), 1)

                started = time.perf_counter()
                report = verify_chain(CHAINS[0])
                result["verify_s"] = round(time.perf_counter() - started, 3)
                result["verify_events"] = report.events
                result["verify_events_before"] = before
                result["intact"] = report.intact
                result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(json.dumps(result))
