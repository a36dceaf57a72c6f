"""``manage.py bench_payment_run [--recipients N] [--loop-sample K] [--keep-db]``: the month's
payment run (2026-01) for N recipients in force, built by the real set-based build
(``payments.services.runs.run_start`` + ``build_run``), next to a per-recipient ORM loop on K of
them in the same run (issue 18, "Performance").

The data is ``payments.benchmarks``' builder's, set-based, in a throwaway database on the
configured server (dropped at the end unless ``--keep-db``). The loop runs first, in one
transaction rolled back; then the run is started and built, timed from ``run_start`` to the end
of ``build_run`` (the data's generation is reported apart, ``setup_seconds``). Both must write
the same payment (amounts, withholding, account, hold) for every sampled recipient, or the
command fails. Prints one JSON line, with the build's slowest statements; ``--explain-ms MS``
also prints the plans of the build's statements slower than MS (auto_explain, for profiling:
it slows the build down, and the JSON says ``"explained": true``).
"""

from __future__ import annotations

import json
import resource
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from contributions.benchmarks import pages as bench
from payments import benchmarks
from payments.services.runs import build_run, run_start
from records.services import Actor

RATIO_TARGET = 10.0
MILLION = 1_000_000
MILLION_SECONDS_TARGET = 120.0


class Command(BaseCommand):
    help = "Benchmark the monthly payment run: the set-based build against a per-recipient ORM loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--recipients", type=int, default=100_000)
        parser.add_argument("--loop-sample", type=int, default=2_000, help="recipients the ORM loop builds")
        parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database")
        parser.add_argument(
            "--explain-ms",
            type=int,
            default=None,
            help="profiling: print to stderr the plan (EXPLAIN ANALYZE) of every build statement slower than this",
        )

    def handle(
        self, *args: Any, recipients: int, loop_sample: int, keep_db: bool, explain_ms: int | None, **opts: Any
    ) -> None:
        if recipients < 100:
            raise CommandError("--recipients must be at least 100.")
        if not 1 <= loop_sample <= recipients:
            raise CommandError("--loop-sample must be between 1 and --recipients.")
        name = f"benchpayrun_{uuid.uuid4().hex[:8]}"
        admin = bench.connect("postgres")
        original = connection.settings_dict["NAME"]
        actor = Actor(label="manage.py bench_payment_run")
        try:
            clock = time.perf_counter()
            bench.create_database(admin, name)
            bench.migrate(name, settings.BASE_DIR)
            migrate_seconds = time.perf_counter() - clock
            with bench.django_on(name):
                staff = benchmarks.create_staff()
            self.stderr.write(f"building {recipients} recipients in {name}")
            built = benchmarks.build(name, recipients, staff, self.stderr.write)
            bench.use_database(name)
            ids = benchmarks.sample(recipients, loop_sample)
            self.stderr.write(f"loop over {len(ids)} recipients")
            loop = benchmarks.naive_loop(ids)
            self.stderr.write(f"set-based build of {recipients} recipients")
            if explain_ms is not None:
                benchmarks.explain_on(connection, self.stderr.write, min_ms=explain_ms)
            timer = benchmarks.StatementTimer()
            with connection.execute_wrapper(timer):
                started = time.perf_counter()
                run, _created = run_start(month=benchmarks.MONTH, actor=actor)
                run = build_run(run_id=run.pk, actor=actor)
                set_based = time.perf_counter() - started
            differ = benchmarks.disagreements(benchmarks.set_based_rows(run.pk, ids), loop.rows)
            if differ:
                raise CommandError(
                    f"the set-based build and the loop disagree for {len(differ)} of {len(ids)} sampled"
                    " recipients:\n" + "\n".join(differ[:5])
                )
            lists = run.lists.count()
        except bench.BenchError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bench.use_database(original)
            connection.close()
            if keep_db:
                self.stderr.write(f"kept: {name}")
            else:
                bench.drop_database(admin, name)
            admin.close()
        rows = run.count + run.held_back
        set_rate = rows / set_based
        loop_rows = len(loop.rows)
        loop_rate = loop_rows / loop.seconds
        ratio = set_rate / loop_rate
        result = {
            "recipients": recipients,
            "month": f"{benchmarks.MONTH:%Y-%m}",
            "migrate_seconds": round(migrate_seconds, 1),
            "setup_seconds": built.seconds,
            "setup_phases": built.phases,
            "rows_loaded": built.rows,
            "triggers_skipped": built.triggers_skipped,
            "set_based": {
                "seconds": round(set_based, 3),
                "rows": rows,
                "paid": run.count,
                "held_back": run.held_back,
                "lists": lists,
                "rows_per_second": round(set_rate),
                "slowest_statements": timer.top(),
            },
            "loop": {
                "sample": len(ids),
                "seconds": round(loop.seconds, 3),
                "rows": loop_rows,
                "rows_per_second": round(loop_rate, 1),
            },
            "ratio": round(ratio, 1),
            "agree": True,
            "explained": explain_ms is not None,
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "targets": {
                "ratio_at_least": RATIO_TARGET,
                "ratio_met": ratio >= RATIO_TARGET,
                "million_seconds_below": MILLION_SECONDS_TARGET,
                "million_met": set_based < MILLION_SECONDS_TARGET if recipients >= MILLION else None,
            },
        }
        self.stdout.write(json.dumps(result))
