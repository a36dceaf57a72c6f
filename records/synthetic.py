"""Synthetic people for demos and benchmarks: valid IINs, Kazakh and Russian names, no real data."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from records.identifiers import make_iin

# The registry of the sample payment orders of the quick start (``../shared/samples/*.mt102``,
# synthetic people): ``manage.py seed_demo`` loads it beside the generated people when it is
# there, so the samples' lines are checked against the people they name.
SAMPLE_REGISTRY = Path(__file__).resolve().parents[2] / "shared" / "samples" / "registry.csv"

MALE_FIRST = ["АЛИБЕК", "НУРЛАН", "ЕРЛАН", "ДАНИЯР", "АСЫЛХАН", "ТИМУР", "АРМАН", "ИВАН", "СЕРГЕЙ", "ҚАЙРАТ"]
FEMALE_FIRST = ["АЙГЕРІМ", "ӘСЕЛ", "ЖАНАР", "ДИНАРА", "ЕЛЕНА", "АННА", "ГҮЛНАР", "САУЛЕ", "ИННА", "МАДИНА"]
SURNAME_ROOTS = ["НУРЛАН", "ЖУМАБА", "САТПА", "ИВАН", "ӘБІЛҚАСЫМ", "ТОҚТАР", "ПЕТР", "СЕРІК", "ОМАР", "КИМ"]
PATRONYMIC_ROOTS = ["МАРАТ", "ЕРЛАН", "АСКАР", "ПЕТР", "НҰРЛАН", "СЕРГЕ", "БОЛАТ", "ИВАН"]


@dataclass(frozen=True)
class SyntheticPerson:
    iin: str
    last_name: str
    first_name: str
    patronymic: str
    birth_date: date
    gender: str
    death_date: date | None

    def csv_row(self) -> str:
        death = self.death_date.isoformat() if self.death_date else ""
        return (
            f"{self.iin},{self.last_name},{self.first_name},{self.patronymic},"
            f"{self.birth_date.isoformat()},{self.gender},{death}\n"
        )


def _surname(root: str, male: bool) -> str:
    if root in ("КИМ",):
        return root
    if root.endswith("Н") or root.endswith("Р") or root.endswith("М") or root.endswith("К"):
        return root + ("ОВ" if male else "ОВА")
    return root + ("ЕВ" if male else "ЕВА")


def synthetic_people(count: int, *, seed: int = 2026, death_share: float = 0.0) -> Iterator[SyntheticPerson]:
    """``count`` distinct synthetic people with valid IINs, reproducible for a given seed."""
    rng = random.Random(seed)
    seen: set[str] = set()
    start = date(1950, 1, 1)
    span = (date(2007, 12, 31) - start).days
    while len(seen) < count:
        male = rng.random() < 0.5
        birth = start + timedelta(days=rng.randrange(span))
        iin = make_iin(birth, male=male, rng=rng)
        if iin in seen:
            continue
        seen.add(iin)
        first = rng.choice(MALE_FIRST if male else FEMALE_FIRST)
        root = rng.choice(PATRONYMIC_ROOTS)
        patronymic = "" if rng.random() < 0.1 else root + ("ОВИЧ" if male else "ОВНА")
        death = None
        if death_share and rng.random() < death_share:
            death = birth + timedelta(days=rng.randrange(18 * 365, 60 * 365))
        yield SyntheticPerson(
            iin, _surname(rng.choice(SURNAME_ROOTS), male), first, patronymic, birth, "M" if male else "F", death
        )


def registry_csv(people: list[SyntheticPerson]) -> bytes:
    from records.registry import REGISTRY_HEADER

    return (",".join(REGISTRY_HEADER) + "\n" + "".join(p.csv_row() for p in people)).encode("utf-8")
