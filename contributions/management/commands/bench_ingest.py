"""``manage.py bench_ingest [--lines N] [--workers W]``: end-to-end speed of the pipeline.

In a throwaway database on the configured PostgreSQL server it generates a synthetic registry
and MT102 files (about 100 lines per order, about 2% of lines that must be returned), then:

- **pipeline**: takes the files in through ``intake_file`` (the same code as every door) while
  real Celery worker processes, started and stopped here, process the orders;
- **naive**: a per-row ORM loop (lookup, participant, line and entry saved one by one) on the
  first ``--naive-lines`` of the same lines;
- **copy**: a raw PostgreSQL COPY of one entry row per line (the ceiling on this machine);
- **floor**: the row work of this schema alone, done by PostgreSQL in one server-side loop (no
  Python, no Celery, no network): per order of 100 lines, the order and its lines inserted and
  committed, then the lines marked, their entries inserted and the order updated, committed.
  No implementation of this design can write its rows faster on this machine.

Prints one JSON line. The throwaway database is dropped at the end.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.db.models import Count

ROOT = Path(settings.BASE_DIR)
LINES_PER_ORDER = 100
ORDERS_PER_FILE = 10
RECEIVED = date(2025, 12, 24)  # after every period the bench writes (01-12.2025): none is in the future


class Command(BaseCommand):
    help = "Benchmark the payment-order pipeline on real Celery workers against a naive loop and raw COPY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lines", type=int, default=100_000)
        parser.add_argument("--workers", type=int, default=2, help="worker processes (concurrency)")
        parser.add_argument(
            "--doors", type=int, default=2, help="intake processes taking the files in at once (e.g. two banks)"
        )
        parser.add_argument(
            "--pool",
            choices=["prefork", "solo"],
            default="prefork",
            help="prefork: one worker with --workers pool processes; solo: --workers separate solo workers",
        )
        parser.add_argument("--naive-lines", type=int, default=5_000)
        parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database")

    def handle(
        self,
        *args: Any,
        lines: int,
        workers: int,
        doors: int,
        pool: str,
        naive_lines: int,
        keep_db: bool,
        **opts: Any,
    ) -> None:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = _admin_connection()
        admin.execute(f'CREATE DATABASE "{name}"')
        url = urlsplit(os.environ.get("DATABASE_URL", ""))._replace(path=f"/{name}").geturl()
        # As in production: no debug cursors (the quick start's settings have DEBUG on).
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_ENV_FILE": "", "EMBEDDED_PGDATA": "", "DJANGO_DEBUG": "0"}
        settings.DEBUG = False  # the intake processes are forks of this one
        try:
            self.stderr.write(f"migrating {name} ...")
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
            )
            result = self._run(url, env, lines=lines, workers=workers, doors=doors, pool=pool, naive_lines=naive_lines)
        finally:
            for conn in connections.all():
                conn.close()
            if not keep_db:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.close()
        self.stdout.write(json.dumps(result))

    def _run(
        self, url: str, env: dict[str, str], *, lines: int, workers: int, doors: int, pool: str, naive_lines: int
    ) -> dict[str, Any]:
        settings.DATABASES["default"]["NAME"] = urlsplit(url).path.lstrip("/")
        connection.close()
        connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"]
        from contributions.models import OrderStatus, PaymentOrder
        from records.registry import registry_load_snapshot
        from records.services import Actor
        from records.synthetic import registry_csv, synthetic_people

        people_count = max(1_000, lines // 10)
        self.stderr.write(f"registry of {people_count} synthetic people ...")
        people = list(synthetic_people(people_count, seed=99, death_share=0.0))
        registry_load_snapshot(raw=registry_csv(people), file_name="bench.csv", actor=Actor(label="bench"))
        folder = tempfile.TemporaryDirectory(prefix="bench_ingest_")
        self.stderr.write(f"writing the MT102 files to {folder.name} ...")
        paths = []
        for index, raw in enumerate(_files(people, lines)):  # generated lazily: a million lines fit
            paths.append(Path(folder.name) / f"bench-{index}.mt102")
            paths[-1].write_bytes(raw)
        self.stderr.write(f"starting {workers} worker processes ...")
        started_workers = _start_workers(env, workers, pool)
        try:
            cpu_before, worker_before = _cpu_times(), _tree_cpu_seconds(started_workers)
            servers_before = _server_cpu_seconds(admin_url=url, broker_url=env.get("CELERY_BROKER_URL", ""))
            own_before = _cpu_seconds(), _cpu_seconds(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            for connection_ in connections.all():  # the intake processes open their own
                connection_.close()
            with ProcessPoolExecutor(doors, mp_context=multiprocessing.get_context("fork")) as executor:
                count = sum(executor.map(_take_in, [[str(p) for p in paths[k::doors]] for k in range(doors)]))
            intake_seconds = time.perf_counter() - started
            own_seconds = _cpu_seconds() + _cpu_seconds(resource.RUSAGE_CHILDREN) - sum(own_before)
            while PaymentOrder.objects.filter(status=OrderStatus.RECEIVED).exists():
                time.sleep(0.05)
                if any(worker.poll() is not None for worker in started_workers):
                    raise CommandError("the Celery worker stopped during the benchmark")
            pipeline_seconds = time.perf_counter() - started
            cpu_after, worker_after = _cpu_times(), _tree_cpu_seconds(started_workers)
            servers_after = _server_cpu_seconds(admin_url=url, broker_url=env.get("CELERY_BROKER_URL", ""))
        finally:
            for worker in started_workers:
                worker.terminate()
            for worker in started_workers:
                worker.wait(timeout=60)
            folder.cleanup()
        statuses = dict(PaymentOrder.objects.values_list("status").annotate(n=Count("id")))
        from contributions.models import LedgerEntry, OrderLine

        posted = LedgerEntry.objects.count()
        returned = OrderLine.objects.filter(status="returned").count()
        naive = _naive(people, min(naive_lines, lines))
        cpu_seconds: dict[str, float | None] = {
            "intake": round(own_seconds, 2),
            "workers": _difference(worker_before, worker_after),
            **{server: _difference(servers_before[server], servers_after[server]) for server in servers_before},
        }
        copy_seconds = _copy_ceiling(lines)
        floor_lines, floor_seconds, floor_cpu = _schema_floor(lines, admin_url=url)
        result = {
            "lines": lines,
            "orders": sum(statuses.values()),
            "files": count,
            "workers": workers,
            "pool": pool,
            "doors": doors,
            "statuses": statuses,
            "lines_posted": posted,
            "lines_returned": returned,
            "pipeline": _rate(lines, pipeline_seconds),
            "pipeline_intake_seconds": round(intake_seconds, 3),
            "pipeline_cpu_busy": _busy(cpu_before, cpu_after),
            "pipeline_cpu_seconds": cpu_seconds,
            "pipeline_cpu_us_per_line": _per_line(cpu_seconds, lines),
            "naive": _rate(naive[0], naive[1]),
            "copy": _rate(lines, copy_seconds),
            "floor": _rate(floor_lines, floor_seconds),
            "floor_postgresql_cpu_us_per_line": _per_line({"postgresql": floor_cpu}, floor_lines),
        }
        pipeline_rate = lines / pipeline_seconds
        result["ratio_pipeline_to_naive"] = round(pipeline_rate / (naive[0] / naive[1]), 1)
        result["ratio_pipeline_to_copy"] = round(pipeline_rate / (lines / copy_seconds), 3)
        result["ratio_pipeline_to_floor"] = round(pipeline_rate / (floor_lines / floor_seconds), 3)
        return result


def _rate(lines: int, seconds: float) -> dict[str, Any]:
    return {"lines": lines, "seconds": round(seconds, 3), "lines_per_second": round(lines / seconds) if seconds else 0}


def _take_in(paths: list[str]) -> int:
    """One door (an intake process): each file's bytes as sent, through ``intake_file``."""
    from contributions.services import intake_file
    from records.services import Actor

    actor = Actor(label="command:bench_ingest")
    for path in paths:
        intake_file(
            raw=Path(path).read_bytes(), file_name=Path(path).name, door="command", actor=actor, received=RECEIVED
        )
    connection.close()
    return len(paths)


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _processes() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/<pid>/stat after the command name) of every process: fields[1]
    is the parent's pid, fields[11:15] the user and system ticks of the process and of its
    reaped children. Raises OSError where there is no /proc."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), _stat_fields(int(entry.name))
            except OSError:  # ended meanwhile
                continue


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()


def _ticks(fields: list[str], *, reaped: bool = False) -> float:
    """CPU seconds of a process (and of its reaped children), from its /proc stat fields."""
    return sum(int(v) for v in fields[11 : 15 if reaped else 13]) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float | None:
    """CPU seconds used so far by the worker processes and their children (a prefork pool), from
    /proc."""
    pids = {process.pid for process in processes}
    try:
        return sum(_ticks(fields) for pid, fields in _processes() if pid in pids or int(fields[1]) in pids)
    except OSError:
        return None


def _per_line(cpu_seconds: dict[str, float | None], lines: int) -> float | None:
    """CPU microseconds per line, of everything the pipeline ran on (None when a part is unknown)."""
    known = [value for value in cpu_seconds.values() if value is not None]
    return round(1e6 * sum(known) / lines, 1) if len(known) == len(cpu_seconds) and lines else None


def _difference(before: float | None, after: float | None) -> float | None:
    return round(after - before, 2) if before is not None and after is not None else None


def _server_cpu_seconds(*, admin_url: str, broker_url: str) -> dict[str, float | None]:
    """CPU seconds used so far by the PostgreSQL server (the postmaster, its live processes and
    those it has reaped) and by Redis (``INFO cpu``), so that the figures show where a line's
    CPU goes and compare versions on a machine whose speed drifts. None for a server this
    process cannot see (PostgreSQL on another host, a broker that is not Redis)."""
    return {"postgresql": _postgres_cpu_seconds(admin_url), "redis": _redis_cpu_seconds(broker_url)}


def _postgres_cpu_seconds(url: str) -> float | None:
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SELECT current_setting('data_directory')").fetchone()
        postmaster = int((Path(row[0]) / "postmaster.pid").read_text().split("\n", 1)[0]) if row else 0
        own = _stat_fields(postmaster)
        children = sum(_ticks(fields) for _, fields in _processes() if int(fields[1]) == postmaster)
    except (OSError, ValueError, IndexError, psycopg.Error):
        return None
    return _ticks(own, reaped=True) + children


def _redis_cpu_seconds(url: str) -> float | None:
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    try:
        info = redis.Redis.from_url(url, socket_timeout=3).info("cpu")
    except redis.RedisError:
        return None
    return float(sum(info.get(key, 0.0) for key in ("used_cpu_sys", "used_cpu_user")))


def _cpu_times() -> tuple[int, int] | None:
    """(busy, idle) jiffies of all CPUs from /proc/stat (Linux), to show whether the pipeline
    kept both cores busy; None elsewhere."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq = fields
    return user + nice + system + irq + softirq, idle + iowait


def _busy(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None:
        return None
    busy, idle = after[0] - before[0], after[1] - before[1]
    return round(busy / (busy + idle), 2) if busy + idle else None


def _admin_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    return psycopg.connect(**params, autocommit=True)


def _start_workers(env: dict[str, str], count: int, pool: str) -> list[subprocess.Popen[bytes]]:
    """Start the workers with the project's settings (prefetch, late acknowledgement) and wait
    until each has said it is ready (its first heartbeat row), so the clock never counts start-up.

    ``prefork``: one worker whose pool has ``count`` child processes (Celery's default);
    ``solo``: ``count`` separate worker processes that each run their tasks themselves, with no
    pool and no pipe between the process that takes a message and the one that runs it.
    """
    from records.models import WorkerHeartbeat

    hostnames = [f"bench-{uuid.uuid4().hex[:6]}@{socket.gethostname()}" for _ in range(count if pool == "solo" else 1)]
    pool_args = ["-P", "solo"] if pool == "solo" else ["-c", str(count)]
    log = open(os.devnull, "wb")  # noqa: SIM115 - lives as long as the workers
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning", *pool_args,
               "-Q", "default,orders", "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
    processes = [
        subprocess.Popen([*command, "-n", hostname], cwd=ROOT, env=env, stdout=log, stderr=log)
        for hostname in hostnames
    ]
    deadline = time.monotonic() + 120
    while WorkerHeartbeat.objects.filter(hostname__in=hostnames).count() < len(hostnames):
        if any(process.poll() is not None for process in processes) or time.monotonic() > deadline:
            raise CommandError("a Celery worker did not start")
        time.sleep(0.2)
    return processes


def _files(people: list[Any], lines: int) -> Iterator[bytes]:
    """MT102 files of ORDERS_PER_FILE orders of LINES_PER_ORDER lines; 2% of lines are returned
    (one in fifty has a wrong birth date). Generated lazily: a million lines fit in memory."""
    import random

    from contributions.synthetic import LineSpec, mt102_message
    from records.identifiers import make_bin

    rng = random.Random(5)
    payers = [make_bin(date(2015, 1 + i % 12, 1), rng=rng) for i in range(50)]
    written = 0
    order_no = 0
    while written < lines:
        buffer = io.StringIO()
        for _ in range(ORDERS_PER_FILE):
            if written >= lines:
                break
            size = min(LINES_PER_ORDER, lines - written)
            specs = []
            for k in range(size):
                person = people[(written + k) % len(people)]
                month = 1 + ((written + k) // len(people)) % 12
                wrong = (written + k) % 50 == 49
                specs.append(
                    LineSpec(
                        iin=person.iin,
                        last_name=person.last_name,
                        first_name=person.first_name,
                        patronymic=person.patronymic,
                        birth_date=date(1901, 1, 1) if wrong else person.birth_date,
                        period=f"{month:02d}2025",
                        amount=f"{4000 + (written + k) % 900},00",
                    )
                )
            order_no += 1
            buffer.write(
                mt102_message(
                    reference=f"BN{order_no:014d}",
                    number=str(order_no),
                    document_date=RECEIVED,
                    payer_idn=payers[order_no % len(payers)],
                    lines=specs,
                )
            )
            written += size
        yield buffer.getvalue().encode("utf-8")


def _naive(people: list[Any], lines: int) -> tuple[int, float]:
    """The same kind of work one row at a time through the ORM, rolled back."""
    from django.db import transaction

    from contributions.models import EntryKind, IncomingFile, LedgerEntry, OrderLine, PaymentOrder
    from records.models import Participant, RegistryPerson

    class Rollback(Exception):
        pass

    started = time.perf_counter()
    try:
        with transaction.atomic():
            incoming = IncomingFile.objects.create(
                door="command",
                file_name="naive",
                raw=b"",
                sha256="0",
                size=0,
                received=RECEIVED,
                submitted_label="naive",
            )
            order = PaymentOrder.objects.create(
                file=incoming, position=1, reference="NAIVE", number="1", document_date=RECEIVED,
                payer_idn="150540012348", received=RECEIVED, is_original=False,
            )  # fmt: skip
            for k in range(lines):
                person = people[k % len(people)]
                record = RegistryPerson.objects.filter(iin=person.iin).first()
                period = date(2025, 1 + (k // len(people)) % 12, 1)
                amount = Decimal("4000.00")
                line = OrderLine.objects.create(
                    order=order, sequence=k + 1, iin=person.iin, last_name=person.last_name,
                    first_name=person.first_name, patronymic=person.patronymic, birth_date=person.birth_date,
                    period=period, amount=amount, status="posted",
                )  # fmt: skip
                if record is None:
                    continue
                participant, _ = Participant.objects.get_or_create(
                    iin=person.iin,
                    defaults={"last_name": record.last_name, "first_name": record.first_name,
                              "patronymic": record.patronymic, "birth_date": record.birth_date,
                              "gender": record.gender},
                )  # fmt: skip
                LedgerEntry.objects.create(
                    participant=participant, period=period, kind=EntryKind.CONTRIBUTION, amount=amount,
                    payer_idn=order.payer_idn, order=order, line=line, received=RECEIVED,
                )  # fmt: skip
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return lines, elapsed


def _copy_ceiling(lines: int) -> float:
    """COPY one entry-shaped row per line into a temporary table: the fastest way rows go in."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_entries (LIKE contributions_ledgerentry INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        started = time.perf_counter()
        columns = (
            "id, participant_id, period, kind, amount, payer_idn, order_id, line_id, received, posted_at, corrects_id"
        )
        with cursor.cursor.copy(f"COPY bench_entries ({columns}) FROM STDIN") as copy:
            for k in range(lines):
                copy.write_row(
                    (k + 1, 1 + k % 1000, date(2025, 1 + k % 12, 1), "contribution", Decimal("4000.00"),
                     "150540012348", 1 + k // 100, k + 1, RECEIVED, "2025-11-24T10:00:00+05:00", None)
                )  # fmt: skip
        return time.perf_counter() - started


# The rows of the pipeline, written by PostgreSQL alone: {orders} orders of {per} lines, each
# order's lines inserted and committed (intake), then marked, their entries inserted and the order
# updated, committed (processing). The participants are those the pipeline created.
_FLOOR = """
DO $floor$
DECLARE
    new_file bigint;
    new_order bigint;
    ids bigint[];
    iins text[];
BEGIN
    SELECT array_agg(id ORDER BY id), array_agg(iin ORDER BY id) INTO ids, iins FROM records_participant;
    INSERT INTO contributions_incomingfile
        (door, file_name, raw, sha256, size, encoding, received, submitted_label, created_at, split_at)
    VALUES ('command', 'floor', '', '0', 0, 'utf-8', '{received}', 'bench floor', now(), now())
    RETURNING id INTO new_file;
    COMMIT;
    FOR i IN 1..{orders} LOOP
        INSERT INTO contributions_paymentorder
            (file_id, position, first_line, reference, number, document_date, payer_idn, payer_name,
             payer_account, payer_bic, payee_idn, payee_bic, payee_account, knp, received, status, is_original, errors,
             lines_total, amount_lines, lines_posted, lines_returned, amount_posted, amount_returned,
             attempts, resolution_note, deadline_flag, created_at, key, content_sha256)
        VALUES (new_file, i, 1, 'FLOOR' || i, i::text, '{received}', '150540012348', '', '', '', '', '', '', '012',
                '{received}', 'received', false, '[]', {per}, 0, 0, 0, 0, 0, 0, '', '', now(),
                '150540012348|FLOOR' || i || '|' || i || '|{received}', md5(i::text) || md5(i::text))
        RETURNING id INTO new_order;
        INSERT INTO contributions_orderline
            (order_id, sequence, file_line, iin, last_name, first_name, patronymic, birth_date, period,
             period_text, amount, status, reason)
        SELECT new_order, s, s, iins[1 + (i * {per} + s) % cardinality(iins)], 'SURNAME', 'NAME', '',
               '1980-01-01', '2025-10-01', '102025', 4000.00 + s, 'pending', ''
        FROM generate_series(1, {per}) AS s;
        COMMIT;
        UPDATE contributions_orderline SET status = 'posted' WHERE order_id = new_order;
        INSERT INTO contributions_ledgerentry
            (participant_id, period, kind, amount, payer_idn, order_id, line_id, received, posted_at)
        SELECT ids[1 + (i * {per} + l.sequence) % cardinality(ids)], l.period, 'contribution', l.amount,
               '150540012348', new_order, l.id, '{received}', now()
        FROM contributions_orderline l WHERE l.order_id = new_order;
        UPDATE contributions_paymentorder SET status = 'posted', lines_posted = {per}, amount_posted = 1
        WHERE id = new_order;
        COMMIT;
    END LOOP;
END
$floor$
"""


def _schema_floor(lines: int, *, admin_url: str) -> tuple[int, float, float | None]:
    """Lines written, seconds, and the server process's CPU seconds (when it runs on this
    machine) for PostgreSQL alone to write the pipeline's rows for about ``lines`` lines
    (``_FLOOR``, whole orders): what is left of a line's cost when parsing, checking, Celery and
    the network cost nothing."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        pid = row[0] if row else 0

        def server_cpu() -> float | None:
            try:
                return _ticks(_stat_fields(pid))
            except OSError:
                return None

        orders = max(1, lines // LINES_PER_ORDER)
        statement = _FLOOR.format(orders=orders, per=LINES_PER_ORDER, received=RECEIVED)
        cpu_before, started = server_cpu(), time.perf_counter()
        conn.execute(statement.encode())
        seconds, cpu_after = time.perf_counter() - started, server_cpu()
    return orders * LINES_PER_ORDER, seconds, _difference(cpu_before, cpu_after)
