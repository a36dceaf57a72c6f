"""``manage.py refresh_calendar YEAR [YEAR ...]``: update the calendar from the holidays package.

Rows an administrator edited are never touched. ``--write-seed`` instead regenerates the
shipped seed file (records/data/calendar_seed.json) that the data migration loads.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from records.calendar_seed import SEED_FILE, SEED_YEARS, write_seed_file
from records.services import Actor, calendar_refresh_from_package


class Command(BaseCommand):
    help = "Refresh days off and working weekend days for the given years from the holidays package."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("years", nargs="*", type=int)
        parser.add_argument("--write-seed", action="store_true", help="Regenerate the shipped seed file instead.")

    def handle(self, *args: Any, years: list[int], write_seed: bool, **options: Any) -> None:
        if write_seed:
            count = write_seed_file(SEED_FILE, SEED_YEARS)
            self.stdout.write(f"wrote {count} days to {SEED_FILE}")
            return
        if not years:
            self.stderr.write("Name at least one year.")
            raise SystemExit(2)
        result = calendar_refresh_from_package(years=sorted(set(years)), actor=Actor(label="command:refresh_calendar"))
        self.stdout.write(
            f"years {', '.join(map(str, sorted(set(years))))}: created {result.created}, updated {result.updated},"
            f" deleted {result.deleted}, kept {len(result.kept_admin)} rows edited by an administrator"
        )
        for day in result.kept_admin:
            self.stdout.write(f"kept (edited by an administrator): {day.isoformat()}")
