"""``manage.py payment_run --month YYYY-MM [--json]``: build the month's payment run, or show it
if it exists (Rules, paragraph 13; conventions: "Monthly payments"). Idempotent: a second call
for the same month builds nothing twice; a run left half-way by a killed worker is built anew.
With ``--json``: one object (``month``, ``state``, ``lists``, ``held_back``, ``totals``)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contributions.services.common import DomainError
from payments.selectors.runs import run_summary
from payments.services.runs import build_run, month_of, run_start
from records.services import Actor


class Command(BaseCommand):
    help = "Build the month's payment run (or show it if it exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="the month, YYYY-MM")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor(label="manage.py payment_run")
        try:
            run, _created = run_start(month=month_of(options["month"]), actor=actor)
            run = build_run(run_id=run.pk, actor=actor)
        except DomainError as exc:
            raise CommandError(f"--month {options['month']}: {exc.messages[0]}") from exc
        summary = run_summary(run)
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        totals = summary["totals"]
        self.stdout.write(f"{summary['month']}: {run.get_state_display()}")
        for row in summary["lists"]:
            self.stdout.write(
                f"  {row['number']} {row['bank']}: {row['count']} payments, gross {row['gross']},"
                f" withheld {row['withheld']}, net {row['net']}"
            )
        self.stdout.write(f"  held back: {summary['held_back']['count']}")
        self.stdout.write(
            f"  total: {totals['count']} payments, gross {totals['gross']}, withheld {totals['withheld']},"
            f" net {totals['net']}"
        )
