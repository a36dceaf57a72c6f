"""``manage.py bench_benefits [--recipients N]``: benefit amounts for N participants with
24-month histories, computed in one set-based pass (``payments.benefits.calculate_many``) next to
a per-recipient loop (``calculate`` for each) on the same data in the same run.

The data is ``bench_pages``' builder's (``contributions.benchmarks.pages``): N participants and
24 × N ledger entries, built set-based in a throwaway database on the configured server, over the
periods 2024-01 … 2025-12; the risk date is 2026-01-15 (the 24-month window is exactly those
periods). Both passes compute the disability amount at 50 % for the same participants, and
must agree to the tenge. Prints one JSON line; the database is dropped at the end.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from contributions.benchmarks import pages as bench
from payments.benefits import Calculation, NoAmount, calculate, calculate_many
from records.models import Participant

RISK_DATE = date(2026, 1, 15)
HISTORY = 24  # entries per participant


class Command(BaseCommand):
    help = "Benchmark benefit amounts: one set-based pass against a per-recipient loop on the same data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--recipients", type=int, default=10_000)
        parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database")

    def handle(self, *args: Any, recipients: int, keep_db: bool, **opts: Any) -> None:
        if recipients < 100:
            raise CommandError("--recipients must be at least 100.")
        name = f"benchbenefits_{uuid.uuid4().hex[:8]}"
        admin = bench.connect("postgres")
        original = connection.settings_dict["NAME"]
        try:
            bench.create_database(admin, name)
            bench.migrate(name, settings.BASE_DIR)
            shape = bench.Shape.of(participants=recipients, entries=HISTORY * recipients)
            with bench.django_on(name):
                staff = bench.create_staff()
            built = bench.build(name, shape, staff, self.stderr.write)
            bench.use_database(name)
            iins = list(Participant.objects.order_by("pk").values_list("iin", flat=True)[:recipients])
            started = time.perf_counter()
            many = calculate_many(benefit="disability", risk_date=RISK_DATE, iins=iins, loss_degree=Decimal(50))
            set_based = time.perf_counter() - started
            started = time.perf_counter()
            alone: dict[str, Calculation | NoAmount] = {}
            for iin in iins:
                try:
                    alone[iin] = calculate(benefit="disability", iin=iin, risk_date=RISK_DATE, loss_degree=Decimal(50))
                except NoAmount as exc:
                    alone[iin] = exc
            loop = time.perf_counter() - started
            disagree = [iin for iin in iins if _amount(many[iin]) != _amount(alone[iin])]
            if disagree:
                raise CommandError(f"the two passes disagree for {len(disagree)} participants, e.g. {disagree[:3]}")
            amounts = [a for a in (_amount(many[iin]) for iin in iins) if a is not None]
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
        self.stdout.write(
            json.dumps(
                {
                    "recipients": len(iins),
                    "entries": HISTORY * recipients,
                    "build_seconds": built.seconds,
                    "risk_date": RISK_DATE.isoformat(),
                    "with_amount": len(amounts),
                    "set_based": {
                        "seconds": round(set_based, 3),
                        "per_recipient_ms": round(set_based / len(iins) * 1000, 3),
                    },
                    "loop": {"seconds": round(loop, 3), "per_recipient_ms": round(loop / len(iins) * 1000, 3)},
                    "ratio_loop_to_set_based": round(loop / set_based, 1),
                }
            )
        )


def _amount(result: Calculation | NoAmount) -> str | None:
    return None if isinstance(result, NoAmount) else f"{result.amount:.2f}"
