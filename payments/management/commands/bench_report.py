"""``manage.py bench_report [--entries N] [--orders O] [--recipients R]``: the monthly report
(paragraph 5) at national scale, next to the floor of what it must read, in the same run (issue 19).

Two throwaway databases on the configured server (dropped at the end unless ``--keep-db``):

- **contributions**: ``contributions.benchmarks.pages``' builder, with ``--orders`` payment orders
  from up to ``--payers`` payers (the builder's skew: a few large payers, many small ones) and
  ``--entries`` posted lines and ledger entries, every order then moved into one month (2026-01)
  as a month's intake is; returned lines, open orders, penalties and refunds as the builder
  makes them;
- **payments**: ``payments.benchmarks``' builder with ``--recipients`` recipients in force, the
  month's run built by the real ``build_run`` and released.

On each, ``report_figures`` for the month is timed (median of ``--repeat``) next to its floor, one
query that reads what the report must at least read (the month's processed orders and the
entries posted from them; the released run's payments) in the same session. On the contributions
database the report is also generated and stored (``report_generate``: the figures, their
canonical text and checksum); its page (the first and the last page of payers), its XLSX and
CSV and the heads' dashboard of the month are fetched as the roles that use them, with their
seconds and sizes: the by-payer table is the report's largest part.

Prints one JSON line.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.urls import reverse

from contributions.benchmarks import pages as bench
from payments import benchmarks
from payments.models import PaymentList
from payments.selectors.reports import canonical, next_month, report_figures
from payments.services.reports import report_generate
from payments.services.runs import build_run, run_start
from records.services import Actor

MONTH = benchmarks.MONTH
LEDGER_FLOOR = """
    SELECT count(*), sum(e.amount) FROM contributions_ledgerentry AS e
    JOIN contributions_paymentorder AS o ON o.id = e.order_id
    WHERE o.received >= %s AND o.received < %s AND o.is_original
      AND o.status IN ('posted', 'partially_returned', 'returned') AND e.kind IN ('contribution', 'penalty')
"""
PAYMENTS_FLOOR = (
    "SELECT count(*), sum(gross), sum(withheld), sum(net) FROM payments_payment"
    " WHERE run_id = %s AND payment_list_id IS NOT NULL"
)


def _timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median seconds of ``repeat`` calls, and the last call's result."""
    seconds, result = [], None
    for _ in range(repeat):
        result = None  # the last call's result is not alive during the next one (memory)
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return round(statistics.median(seconds), 3), result


def _floor(query: str, params: list[Any]) -> Callable[[], Any]:
    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchone()

    return run


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Command(BaseCommand):
    help = "Benchmark the monthly report at national scale against the floor of what it reads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entries", type=int, default=6_000_000, help="the month's posted lines and entries")
        parser.add_argument("--orders", type=int, default=500_000, help="the month's payment orders")
        parser.add_argument("--payers", type=int, default=1_000_000, help="the pool the orders' payers come from")
        parser.add_argument("--participants", type=int, default=3_000_000)
        parser.add_argument("--recipients", type=int, default=1_000_000, help="0: no payments database")
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark databases")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["entries"] < 1000 or not 10 <= opts["orders"] <= opts["entries"] // 2:
            raise CommandError("--entries must be at least 1000 and --orders between 10 and half of --entries.")
        if opts["participants"] < 1000 or opts["payers"] < 2 or opts["repeat"] < 1:
            raise CommandError("--participants must be at least 1000, --payers 2, --repeat 1.")
        if opts["recipients"] and opts["recipients"] < 100:
            raise CommandError("--recipients must be 0 or at least 100.")
        run = uuid.uuid4().hex[:8]
        admin = bench.connect("postgres")
        original = connection.settings_dict["NAME"]
        created: list[str] = []
        result: dict[str, Any] = {"month": f"{MONTH:%Y-%m}"}
        try:
            name = f"benchreport_{run}_c"
            created.append(name)
            result["contributions"] = self._contributions(admin, name, opts)
            if opts["recipients"]:
                name = f"benchreport_{run}_p"
                created.append(name)
                result["payments"] = self._payments(admin, name, opts)
        except bench.BenchError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bench.use_database(original)
            connection.close()
            for name in created:
                if opts["keep_db"]:
                    self.stderr.write(f"kept: {name}")
                else:
                    bench.drop_database(admin, name)
            admin.close()
        result["peak_memory_mb"] = _peak_mb()
        self.stdout.write(json.dumps(result))

    def _migrated(self, admin: Any, name: str) -> float:
        clock = time.perf_counter()
        bench.create_database(admin, name)
        bench.migrate(name, settings.BASE_DIR)
        return round(time.perf_counter() - clock, 1)

    def _contributions(self, admin: Any, name: str, opts: dict[str, Any]) -> dict[str, Any]:
        migrate_seconds = self._migrated(admin, name)
        orders = opts["orders"]
        shape = dataclasses.replace(
            bench.Shape.of(participants=opts["participants"], entries=opts["entries"]),
            orders=orders,
            open_orders=max(1, orders // bench.ORDERS_PER_OPEN),
            payers=opts["payers"],
            files=-(-orders // bench.ORDERS_PER_FILE),
            refunds=max(bench.REFUNDS_AT_LEAST, orders // bench.ORDERS_PER_REFUND),
        )
        with bench.django_on(name):
            staff = bench.create_staff()
        self.stderr.write(f"building {name}: {shape} ...")
        built = bench.build(name, shape, staff, self.stderr.write)
        with bench.connect(name) as conn:
            # A month's intake: every order received on one of the month's days.
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                "UPDATE contributions_paymentorder SET received = %s::date + (id %% 31)::int,"
                " document_date = %s::date + (id %% 31)::int, value_date = %s::date + (id %% 31)::int",
                [MONTH, MONTH, MONTH],
            )
            conn.execute("VACUUM (ANALYZE) contributions_paymentorder")
        bench.use_database(name)
        start, end = MONTH, next_month(MONTH)
        self.stderr.write("measuring the contributions half ...")
        floor_seconds, floor_row = _timed(_floor(LEDGER_FLOOR, [start, end]), opts["repeat"])
        before = _peak_mb()
        figures_seconds, figures = _timed(lambda: report_figures(MONTH), opts["repeat"])
        figures_memory = round(_peak_mb() - before, 1)  # before the page and the files are made
        text = canonical(figures)
        specialist = User.objects.get(pk=staff.ids["specialist"])
        clock = time.perf_counter()
        report = report_generate(month=MONTH, actor=Actor.of(specialist))
        generate_seconds = round(time.perf_counter() - clock, 3)
        page = self._get(specialist, reverse("monthly_report_detail", args=[report.pk]))
        last_page = self._get(specialist, reverse("monthly_report_detail", args=[report.pk]) + "?payers=999999")
        xlsx = self._get(specialist, reverse("monthly_report_download", args=[report.pk, "ru", "xlsx"]))
        csv = self._get(specialist, reverse("monthly_report_download", args=[report.pk, "kk", "csv"]))
        # The auditor reads the dashboard too (a head would be sent to the second factor first).
        auditor = User.objects.get(pk=staff.ids["auditor"])
        dashboard_url = reverse("heads_dashboard") + f"?month={MONTH:%Y-%m}"
        dashboard = self._get(auditor, dashboard_url)  # computed and kept
        dashboard_kept = self._get(auditor, dashboard_url)
        contributions = figures["contributions"]
        return {
            "database": name,
            "migrate_seconds": migrate_seconds,
            "setup_seconds": built.seconds,
            "rows": {
                "orders": contributions["orders"]["received"],
                "entries": contributions["by_kind"]["contribution"]["count"]
                + contributions["by_kind"]["penalty"]["count"],
                "participants": contributions["participants"],
                "payers": len(contributions["payers"]),
                "returned_lines": contributions["returned"]["lines"],
            },
            "floor": {"seconds": floor_seconds, "entries": floor_row[0]},
            "report_figures": {
                "seconds": figures_seconds,
                "ratio_to_floor": round(figures_seconds / max(floor_seconds, 0.001), 1),
                "json_bytes": len(text),
                "memory_growth_mb": figures_memory,
                "reconciled": all(check["ok"] for check in figures["reconciliation"]),
            },
            "report_generate_seconds": generate_seconds,
            "page": page,
            "page_last_payers": last_page,
            "xlsx": xlsx,
            "csv": csv,
            "dashboard": dashboard,
            "dashboard_kept": dashboard_kept,
        }

    def _payments(self, admin: Any, name: str, opts: dict[str, Any]) -> dict[str, Any]:
        migrate_seconds = self._migrated(admin, name)
        with bench.django_on(name):
            staff = benchmarks.create_staff()
        self.stderr.write(f"building {opts['recipients']} recipients in {name} ...")
        built = benchmarks.build(name, opts["recipients"], staff, self.stderr.write)
        bench.use_database(name)
        actor = Actor(label="manage.py bench_report")
        clock = time.perf_counter()
        payment_run, _created = run_start(month=MONTH, actor=actor)
        payment_run = build_run(run_id=payment_run.pk, actor=actor)
        build_seconds = round(time.perf_counter() - clock, 1)
        with bench.connect(name) as conn:  # released as the head of the service would (not timed here)
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                "UPDATE payments_paymentrun SET state = 'released', approved_by_id = %s, approved_at = now()"
                " WHERE id = %s",
                [staff.approver, payment_run.pk],
            )
        self.stderr.write("measuring the payments half ...")
        floor_seconds, floor_row = _timed(_floor(PAYMENTS_FLOOR, [payment_run.pk]), opts["repeat"])
        figures_seconds, figures = _timed(lambda: report_figures(MONTH), opts["repeat"])
        return {
            "database": name,
            "migrate_seconds": migrate_seconds,
            "setup_seconds": built.seconds,
            "run_build_seconds": build_seconds,
            "floor": {"seconds": floor_seconds, "payments": floor_row[0]},
            "report_figures": {
                "seconds": figures_seconds,
                "ratio_to_floor": round(figures_seconds / max(floor_seconds, 0.001), 1),
                "payments": figures["payments"]["made"]["count"],
                "lists": PaymentList.objects.filter(run=payment_run).count(),
                "reconciled": figures["reconciliation"][1]["ok"],
            },
        }

    @staticmethod
    def _get(user: User, url: str) -> dict[str, Any]:
        """One GET as ``user``, as in production (DEBUG off): its seconds, status and size."""
        client = Client()
        client.force_login(user)
        with bench.measuring_settings():
            started = time.perf_counter()
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
            seconds = round(time.perf_counter() - started, 3)
        return {"url": url, "status": response.status_code, "seconds": seconds, "bytes": len(body)}
