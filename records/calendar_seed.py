"""Building calendar rows from the ``holidays`` package (vacanza, KZ) and reference.md §6.

Used by ``manage.py refresh_calendar`` and to write the shipped seed file
``records/data/calendar_seed.json`` that the data migration loads, so that a freshly migrated
database answers at once and the shipped calendar does not change with the package version.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

import holidays

SEED_FILE = Path(__file__).resolve().parent / "data" / "calendar_seed.json"
SEED_YEARS = range(2020, 2028)

# Russian names: the package has kk and en_US but no ru. Keyed by the package's English name.
RU_NAMES = {
    "New Year's Day": "Новый год",
    "Orthodox Christmas": "Православное Рождество",
    "International Women's Day": "Международный женский день",
    "Nowruz Holiday": "Наурыз мейрамы",
    "Kazakhstan's People Solidarity Holiday": "Праздник единства народа Казахстана",
    "Defender of the Fatherland Day": "День защитника Отечества",
    "Victory Day": "День Победы",
    "Capital Day": "День Столицы",
    "Eid al-Adha": "Курбан айт",
    "Constitution Day": "День Конституции",
    "Republic Day": "День Республики",
    "First President Day": "День Первого Президента",
    "Independence Day": "День Независимости",
}
RELIGIOUS = {"Orthodox Christmas", "Eid al-Adha"}

# Notes kept with particular rows (reference.md §6.2-6.3). Dates here are not deviations:
# the package agrees with them; the note records the source or what is still to confirm.
NOTES = {
    date(2020, 7, 31): "Kurban Ait 2020: UNVERIFIED (global Eid al-Adha date), reference.md §6.2.",
    date(2024, 6, 16): "Kurban Ait 2024 fixed by ДУМК on 7 Jun 2024 as Sun 16 Jun; 17 Jun stayed a working day.",
    date(2024, 5, 4): "Ministerial transfer (April 2024): Sat 4 May working, Wed 8 May a day off.",
    date(2025, 1, 5): "Ministerial transfer, order of 21 Nov 2024: Fri 3 Jan a day off, Sun 5 Jan working.",
    date(2026, 5, 27): "Kurban Ait 2026: ДУМК calendar approved 8 Jan 2026; may shift by ±1 day.",
    date(2027, 3, 15): "Constitution Day moves to 15 March from 2027 (Constitution of 15 March 2026).",
    date(2027, 5, 16): "Kurban Ait 2027: UNVERIFIED astronomical estimate; replace with ДУМК's 2027 date.",
}

# Rows where the shipped calendar deliberately differs from the package, with the reason.
# tests/records/test_working_days.py fails on any difference not listed here.
DEVIATIONS: dict[date, str] = {}

_SUBSTITUTED = re.compile(r"^Day off \(substituted from (\d\d)/(\d\d)/(\d{4})\)$")
_OBSERVED = re.compile(r"^(.*) \(observed\)$")
_ESTIMATED = re.compile(r"^(.*) \((?:estimated|бағаланған)\)$")


@dataclass(frozen=True)
class SeedDay:
    date: date
    is_working: bool
    kind: str
    name_kk: str
    name_ru: str
    name_en: str
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["date"] = self.date.isoformat()
        return data


def _base(name: str) -> tuple[str, bool]:
    match = _ESTIMATED.match(name)
    return (match.group(1), True) if match else (name, False)


def days_from_package(years: range | list[int]) -> list[SeedDay]:
    """Every day off the package lists for ``years`` and every working weekend day."""
    kk = holidays.country_holidays("KZ", years=list(years), language="kk")
    en = holidays.country_holidays("KZ", years=list(years), language="en_US")
    days: list[SeedDay] = []
    for day in sorted(en):
        name_en, estimated = _base(en[day])
        name_kk = _base(kk[day])[0]
        note = NOTES.get(day, "Estimated by the holidays package; confirm the date." if estimated else "")
        if match := _SUBSTITUTED.match(name_en):
            moved_from = date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
            kind, name_ru = "transfer_off", f"Перенесённый выходной (с {moved_from:%d.%m.%Y})"
        elif match := _OBSERVED.match(name_en):
            base = match.group(1)
            kind, name_ru = "moved", f"{RU_NAMES.get(base, base)} (перенос выходного)"
        else:
            kind = "religious" if name_en in RELIGIOUS else "holiday"
            name_ru = RU_NAMES.get(name_en, name_en)
        days.append(SeedDay(day, False, kind, name_kk, name_ru, name_en, note))
    wanted = set(years)
    for day in sorted(getattr(en, "weekend_workdays", ())):
        if day.year in wanted:
            days.append(
                SeedDay(
                    day,
                    True,
                    "transfer_working",
                    "Ауыстырылған жұмыс күні",
                    "Рабочий день по переносу",
                    "Working day by transfer",
                    NOTES.get(day, ""),
                )
            )
    days.sort(key=lambda d: d.date)
    return days


def write_seed_file(path: Path = SEED_FILE, years: range = SEED_YEARS) -> int:
    days = days_from_package(years)
    payload = {
        "generated_from": f"holidays {version('holidays')}",
        "years": [years.start, years.stop - 1],
        "deviations": {d.isoformat(): reason for d, reason in DEVIATIONS.items()},
        "days": [d.as_json() for d in days],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(days)


def read_seed_file(path: Path = SEED_FILE) -> list[SeedDay]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    return [SeedDay(**{**row, "date": date.fromisoformat(row["date"])}) for row in payload["days"]]


def seed_calendar_rows(calendar_day_model: Any, *, skip: set[date] | None = None) -> int:
    """Insert the shipped seed (rows of ``skip`` excepted) with ``calendar_day_model``, the real
    model or a migration's historical one. Returns how many rows were inserted."""
    rows = [
        calendar_day_model(
            date=day.date,
            is_working=day.is_working,
            kind=day.kind,
            name_kk=day.name_kk,
            name_ru=day.name_ru,
            name_en=day.name_en,
            note=day.note,
            source="seed",
        )
        for day in read_seed_file()
        if not skip or day.date not in skip
    ]
    calendar_day_model.objects.bulk_create(rows)
    return len(rows)
