"""The working-day calendar service: the only place code asks whether a day is a working day.

Conventions, "The working-day calendar" and "Within one working day" (Rules, paragraphs 7 and
14): five-day week, days off and working weekend days from the ``CalendarDay`` table, and the
deadline of something received on a date is the end of the next working day, Asia/Almaty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from records.models import CalendarDay

# How far ahead one query looks; longer runs of days off than this do not occur.
_WINDOW_DAYS = 31


class CalendarNotLoaded(LookupError):
    """The calendar has no data for a year: answering would silently ignore its holidays."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            _("The working-day calendar has no data for %(year)s: run 'manage.py refresh_calendar %(year)s'.")
            % {"year": year}
        )


def _exceptions(start: date, end: date) -> dict[date, bool]:
    """Rows in [start, end] as {date: is_working}, after checking that every year in range is
    loaded. One query (every order's deadline asks): the rows of the whole years in range, a few
    dozen a year."""
    rows = CalendarDay.objects.filter(date__range=(date(start.year, 1, 1), date(end.year, 12, 31)))
    by_date = dict(rows.values_list("date", "is_working"))
    loaded = {day.year for day in by_date}
    for year in range(start.year, end.year + 1):
        if year not in loaded:
            raise CalendarNotLoaded(year)
    return {day: working for day, working in by_date.items() if start <= day <= end}


def _is_working(day: date, exceptions: dict[date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def is_working_day(day: date) -> bool:
    return _is_working(day, _exceptions(day, day))


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``n`` = 0 gives ``start`` itself)."""
    if n < 0:
        raise ValueError("n must not be negative")
    current, remaining = start, n
    while remaining:
        window_end = current + timedelta(days=_WINDOW_DAYS + remaining * 2)
        exceptions = _exceptions(current + timedelta(days=1), window_end)
        while remaining and current < window_end:
            current += timedelta(days=1)
            if _is_working(current, exceptions):
                remaining -= 1
    return current


def next_working_day(day: date) -> date:
    """The first working day strictly after ``day`` (reference.md §6.4)."""
    return add_working_days(day, 1)


def working_days_between(start: date, end: date) -> int:
    """How many working days lie in (start, end]: 0 when ``end`` is not after ``start``."""
    if end <= start:
        return 0
    exceptions = _exceptions(start + timedelta(days=1), end)
    return sum(1 for k in range(1, (end - start).days + 1) if _is_working(start + timedelta(days=k), exceptions))


def deadline_for(received: date) -> datetime:
    """The end (23:59:59.999999, Asia/Almaty) of the first working day after ``received``.

    Conventions, "Within one working day": ``deadline = next_working_day(receipt_date)``.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(next_working_day(received), time.max, tzinfo=tz)


class WorkingCalendar:
    """The calendar of a span of dates, read once: the deadlines of a whole list (a queue page)
    without a query per row. A date beyond the span is answered by ``add_working_days``."""

    def __init__(self, days: Iterable[date], *, longest: int) -> None:
        days = list(days)
        self.start = min(days, default=timezone.localdate())
        self.end = max(days, default=self.start) + timedelta(days=31 + 2 * longest)
        try:
            self.exceptions = _exceptions(self.start, self.end)
        except CalendarNotLoaded:  # the span reaches a year not loaded yet: as far as is loaded
            self.end = date(max(days, default=self.start).year, 12, 31)
            self.exceptions = _exceptions(self.start, self.end)

    def add_working_days(self, day: date, n: int) -> date:
        if day < self.start:
            return add_working_days(day, n)
        current = day
        while n:
            current += timedelta(days=1)
            if current > self.end:
                return add_working_days(current - timedelta(days=1), n)
            if _is_working(current, self.exceptions):
                n -= 1
        return current

    def next_working_day(self, day: date) -> date:
        return self.add_working_days(day, 1)
