"""``manage.py next_working_day YYYY-MM-DD``: print the next working day as YYYY-MM-DD."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.working_days import CalendarNotLoaded, next_working_day


class Command(BaseCommand):
    help = "Print the first working day after the given date (Asia/Almaty calendar)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("day", metavar="YYYY-MM-DD")

    def handle(self, *args: Any, day: str, **options: Any) -> None:
        try:
            parsed = date.fromisoformat(day)
        except ValueError as exc:
            raise CommandError(f"{day!r} is not a date in the form YYYY-MM-DD") from exc
        try:
            self.stdout.write(next_working_day(parsed).isoformat())
        except CalendarNotLoaded as exc:
            raise CommandError(str(exc)) from exc
