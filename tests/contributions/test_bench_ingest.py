"""``manage.py bench_ingest``: the benchmark runs the real pipeline (its own throwaway database,
real Celery worker processes it starts and stops) and prints one JSON line with its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
from django.db import connection

from tests.conftest import _XDIST, ROOT


def _bench_databases() -> set[str]:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        rows = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'").fetchall()
    return {row[0] for row in rows}


def test_bench_ingest_runs_the_pipeline_and_prints_its_figures() -> None:
    before = _bench_databases()
    # A Redis database of its own: a worker another test left running must not take its tasks.
    broker = f"redis://127.0.0.1:{os.environ['REDIS_PORT']}/{12 + int(_XDIST.removeprefix('gw') or 0)}"
    done = subprocess.run(
        [sys.executable, "manage.py", "bench_ingest", "--lines", "1000", "--naive-lines", "50"],
        cwd=ROOT,
        env={**os.environ, "CELERY_BROKER_URL": broker},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # 10 orders of 100 lines, 2% of the lines with a wrong birth date.
    assert (result["lines"], result["orders"], result["files"]) == (1000, 10, 1)
    assert result["statuses"] == {"partially_returned": 10}
    assert (result["lines_posted"], result["lines_returned"]) == (980, 20)
    assert result["pipeline"]["lines"] == 1000
    assert result["pipeline"]["lines_per_second"] > 0
    assert result["naive"]["lines"] == 50
    assert result["copy"]["lines"] == 1000
    assert result["ratio_pipeline_to_naive"] > 0
    assert result["ratio_pipeline_to_copy"] > 0
    # The schema's floor: PostgreSQL alone wrote the same number of lines (whole orders).
    assert result["floor"]["lines"] == 1000
    assert result["floor"]["lines_per_second"] > 0
    assert result["floor_postgresql_cpu_us_per_line"] > 0
    assert result["ratio_pipeline_to_floor"] > 0
    # Where the CPU went: the intake processes, the workers, PostgreSQL and Redis (both local here).
    cpu = result["pipeline_cpu_seconds"]
    assert set(cpu) == {"intake", "workers", "postgresql", "redis"}
    assert all(value is not None and value >= 0 for value in cpu.values()), cpu
    assert cpu["postgresql"] > 0
    assert result["pipeline_cpu_us_per_line"] > 0
    assert _bench_databases() == before  # the throwaway database is dropped
