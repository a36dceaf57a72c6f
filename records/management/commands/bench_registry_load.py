"""``manage.py bench_registry_load [--rows N]``: how fast a registry snapshot loads.

Measures, on the same synthetic rows and in one run: the real loader (COPY into a temporary
table, one INSERT ... ON CONFLICT) for a first load and for a reload with 1% changes, and a
naive per-row ORM ``update_or_create`` loop as the baseline (on a subset, since it is slow;
its rate is what is compared). Everything is rolled back at the end. Prints one JSON line.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from records.models import RegistryLoad, RegistryPerson
from records.registry import registry_load_snapshot
from records.services import Actor
from records.synthetic import registry_csv, synthetic_people


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark the registry snapshot loader against a naive per-row ORM loop (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--naive-rows", type=int, default=5_000)

    def handle(self, *args: Any, rows: int, naive_rows: int, **options: Any) -> None:
        people = list(synthetic_people(rows, seed=7))
        first = registry_csv(people)
        changed = [replace(p, last_name=p.last_name + "А") if i % 100 == 0 else p for i, p in enumerate(people)]
        second = registry_csv(changed)
        naive = people[: min(naive_rows, rows)]
        actor = Actor(label="command:bench_registry_load")
        result: dict[str, Any] = {"rows": rows}
        try:
            with transaction.atomic():
                started = time.perf_counter()
                load = registry_load_snapshot(raw=first, file_name="bench-1.csv", actor=actor)
                result["first_load_seconds"] = round(time.perf_counter() - started, 3)
                started = time.perf_counter()
                reload = registry_load_snapshot(raw=second, file_name="bench-2.csv", actor=actor)
                result["reload_seconds"] = round(time.perf_counter() - started, 3)
                result["reload_updated"] = reload.rows_updated
                RegistryPerson.objects.all().delete()
                started = time.perf_counter()
                for person in naive:
                    RegistryPerson.objects.update_or_create(
                        iin=person.iin,
                        defaults={
                            "last_name": person.last_name,
                            "first_name": person.first_name,
                            "patronymic": person.patronymic,
                            "birth_date": person.birth_date,
                            "gender": person.gender,
                            "death_date": person.death_date,
                            "load": load,
                            "updated_at": timezone.now(),
                        },
                    )
                naive_seconds = time.perf_counter() - started
                result["naive_rows"] = len(naive)
                result["naive_seconds"] = round(naive_seconds, 3)
                raise _Rollback
        except _Rollback:
            pass
        if RegistryLoad.objects.filter(file_name__startswith="bench-").exists():
            raise CommandError("the benchmark's rows were not rolled back")
        result["first_load_rows_per_second"] = round(rows / result["first_load_seconds"])
        result["reload_rows_per_second"] = round(rows / result["reload_seconds"])
        result["naive_rows_per_second"] = round(len(naive) / naive_seconds)
        result["speedup_first_load_vs_naive"] = round(
            result["first_load_rows_per_second"] / result["naive_rows_per_second"], 1
        )
        self.stdout.write(json.dumps(result))
