"""The working-day calendar: reference.md §6.4 cases, yearly totals, deadlines, refresh."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from records.calendar_seed import DEVIATIONS, SEED_YEARS, days_from_package, read_seed_file
from records.models import AuditEvent, CalendarDay
from records.services import Actor, calendar_refresh_from_package
from records.working_days import (
    CalendarNotLoaded,
    add_working_days,
    deadline_for,
    is_working_day,
    next_working_day,
    working_days_between,
)

pytestmark = pytest.mark.django_db

REFERENCE_CASES = [
    (date(2024, 12, 31), date(2025, 1, 5)),  # 1-2 Jan holidays, 3 Jan transferred off, Sun 5 Jan working
    (date(2024, 5, 3), date(2024, 5, 4)),  # working Saturday by transfer
    (date(2024, 5, 7), date(2024, 5, 10)),  # 8 May transferred off, 9 May holiday
    (date(2024, 6, 14), date(2024, 6, 17)),  # Kurban Ait on Sunday 16 Jun, 17 Jun stayed working
    (date(2025, 3, 21), date(2025, 3, 26)),  # Nauryz 21-23 plus moved 24-25
    (date(2025, 6, 5), date(2025, 6, 9)),  # Kurban Ait Fri 6 Jun
    (date(2026, 3, 20), date(2026, 3, 26)),  # 21-25 Mar off
    (date(2026, 5, 8), date(2026, 5, 12)),  # 9 May Sat moved to Mon 11 May
    (date(2026, 12, 15), date(2026, 12, 17)),  # 16 Dec holiday
]


@pytest.mark.parametrize(("received", "expected"), REFERENCE_CASES)
def test_reference_cases(received: date, expected: date) -> None:
    assert next_working_day(received) == expected


@pytest.mark.parametrize(("received", "expected"), REFERENCE_CASES)
def test_next_working_day_command(received: date, expected: date) -> None:
    out = StringIO()
    call_command("next_working_day", received.isoformat(), stdout=out)
    assert out.getvalue() == f"{expected.isoformat()}\n"


@pytest.mark.parametrize(("year", "days_off", "working"), [(2024, 117, 249), (2025, 119, 246), (2026, 118, 247)])
def test_yearly_totals(year: int, days_off: int, working: int) -> None:
    start = date(year, 1, 1)
    days = [start + timedelta(days=k) for k in range((date(year + 1, 1, 1) - start).days)]
    count = sum(1 for d in days if is_working_day(d))
    assert (len(days) - count, count) == (days_off, working)
    assert working_days_between(start - timedelta(days=1), date(year, 12, 31)) == working


def test_religious_days_are_not_moved_and_constitution_day_2026_is_gone() -> None:
    assert not is_working_day(date(2026, 1, 7))  # Wednesday, Orthodox Christmas
    assert is_working_day(date(2024, 6, 17))  # Kurban Ait on Sunday is not moved
    assert is_working_day(date(2023, 1, 9))  # 7 Jan 2023 was a Saturday: not moved
    assert is_working_day(date(2026, 8, 31))  # 30 Aug 2026 is no longer a holiday
    assert not is_working_day(date(2027, 3, 15))  # Constitution Day from 2027


def test_add_working_days() -> None:
    assert add_working_days(date(2025, 3, 20), 0) == date(2025, 3, 20)
    assert add_working_days(date(2025, 3, 20), 1) == date(2025, 3, 26)
    assert add_working_days(date(2025, 3, 20), 3) == date(2025, 3, 28)
    assert add_working_days(date(2024, 12, 30), 2) == date(2025, 1, 5)
    assert add_working_days(date(2024, 1, 1), 249) == date(2024, 12, 31)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2025, 1, 1), -1)


def test_deadline_is_the_end_of_the_next_working_day_in_almaty() -> None:
    deadline = deadline_for(date(2024, 12, 31))
    assert deadline.tzinfo == ZoneInfo("Asia/Almaty")
    assert deadline.date() == date(2025, 1, 5)
    assert (deadline.hour, deadline.minute, deadline.second) == (23, 59, 59)
    # UTC+5 since 1 March 2024.
    assert deadline.utcoffset() == timedelta(hours=5)
    assert deadline < datetime(2025, 1, 5, 19, 0, tzinfo=ZoneInfo("UTC"))


def test_a_year_without_data_is_refused_not_guessed() -> None:
    with pytest.raises(CalendarNotLoaded) as excinfo:
        next_working_day(date(2031, 6, 1))
    assert excinfo.value.year == 2031
    with pytest.raises(CommandError, match="2031"):
        call_command("next_working_day", "2031-06-01")


def test_a_window_reaching_into_a_year_without_data_is_refused() -> None:
    last = max(SEED_YEARS)
    with pytest.raises(CalendarNotLoaded) as excinfo:
        next_working_day(date(last, 12, 30))
    assert excinfo.value.year == last + 1


def test_a_deadline_costs_one_query(django_assert_num_queries) -> None:
    """Every order taken in asks for its deadline: the rows of the years in range and the check
    that each year is loaded come from one query."""
    with django_assert_num_queries(1):
        deadline_for(date(2025, 11, 24))


def test_command_rejects_a_malformed_date() -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("next_working_day", "31.12.2024")


def test_the_migrated_database_holds_the_shipped_seed() -> None:
    seed = {d.date: d for d in read_seed_file()}
    rows = {row.date: row for row in CalendarDay.objects.all()}
    assert set(rows) == set(seed)
    assert {row.source for row in rows.values()} == {CalendarDay.Source.SEED}
    assert all(rows[d].is_working == seed[d].is_working for d in seed)
    assert {d.year for d in seed} == set(SEED_YEARS)


def test_seed_agrees_with_the_holidays_package_except_recorded_deviations() -> None:
    package = {(d.date, d.is_working) for d in days_from_package(SEED_YEARS)}
    shipped = {(d.date, d.is_working) for d in read_seed_file()}
    differing = {d for d, _ in package ^ shipped}
    assert differing <= set(DEVIATIONS), f"unexplained differences: {sorted(differing - set(DEVIATIONS))}"
    assert all(reason.strip() for reason in DEVIATIONS.values())


def test_seed_rows_carry_names_in_three_languages() -> None:
    for day in read_seed_file():
        assert all((day.name_kk, day.name_ru, day.name_en)), day
    nauryz = next(d for d in read_seed_file() if d.date == date(2025, 3, 21))
    assert (nauryz.name_kk, nauryz.name_ru, nauryz.name_en) == ("Наурыз мейрамы", "Наурыз мейрамы", "Nowruz Holiday")


def test_refresh_adds_a_new_year_and_keeps_rows_an_administrator_edited() -> None:
    # An administrator records a (fictional) extra day off and corrects Kurban Ait 2027.
    CalendarDay.objects.create(
        date=date(2027, 5, 17), is_working=False, kind="transfer_off", name_en="Decree", source="admin"
    )
    CalendarDay.objects.filter(date=date(2027, 5, 16)).update(source="admin", note="ДУМК 2027: confirmed")
    result = calendar_refresh_from_package(years=[2027, 2028], actor=Actor(label="test"))
    assert result.kept_admin == [date(2027, 5, 16), date(2027, 5, 17)]
    assert CalendarDay.objects.get(date=date(2027, 5, 16)).note == "ДУМК 2027: confirmed"
    assert CalendarDay.objects.filter(date__year=2028).count() == result.created > 10
    assert next_working_day(date(2027, 5, 14)) == date(2027, 5, 18)
    # 1-2 Jan 2028 fall on a weekend and move to Mon 3 and Tue 4 Jan.
    assert next_working_day(date(2027, 12, 31)) == date(2028, 1, 5)
    assert AuditEvent.objects.filter(action="calendar.refresh").count() == 1
    again = calendar_refresh_from_package(years=[2027, 2028], actor=Actor(label="test"))
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)


def test_refresh_removes_package_rows_the_package_no_longer_has() -> None:
    CalendarDay.objects.create(date=date(2026, 8, 31), is_working=False, kind="moved", source="seed")
    result = calendar_refresh_from_package(years=[2026], actor=Actor(label="test"))
    assert result.deleted == 1
    assert is_working_day(date(2026, 8, 31))


def test_refresh_calendar_command() -> None:
    out = StringIO()
    call_command("refresh_calendar", "2028", stdout=out)
    assert "created" in out.getvalue()
    assert not is_working_day(date(2028, 3, 8))
