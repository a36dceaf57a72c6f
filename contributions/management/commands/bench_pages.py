"""``manage.py bench_pages [--participants N] [--entries M]``: the staff pages and API reads at
national scale (issue 16).

Builds two throwaway databases on the configured PostgreSQL server, one of the size asked
(default: a million participants and ten million ledger entries) and one of 1/100 of it, times
each page in-process with Django's test client on both (DEBUG off, ``--requests`` timed requests
after 3 warm-up ones, as the role that uses the page) and counts its queries. A page meets the
issue's targets when its p95 grows by at most 1.5× with 100× the data, stays under 50 ms at full
size and sends the same number of queries at both sizes. The data and the pages are in
``contributions.benchmarks.pages``.

Prints one JSON line. The databases are dropped at the end unless ``--keep-db``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from contributions.benchmarks import pages as bench

MINIMUM = 2 * bench.SMALL_DIVISOR  # the small database needs two participants and two entries


class Command(BaseCommand):
    help = "Benchmark the staff pages and API reads on a national-size database and one of 1/100 of it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--participants", type=int, default=1_000_000)
        parser.add_argument("--entries", type=int, default=10_000_000, help="ledger entries (and posted lines)")
        parser.add_argument("--requests", type=int, default=60, help="timed requests per page and size")
        parser.add_argument("--pages", default="", help=f"comma-separated subset of: {', '.join(bench.PAGE_NAMES)}")
        parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark databases")

    def handle(
        self, *args: Any, participants: int, entries: int, requests: int, pages: str, keep_db: bool, **opts: Any
    ) -> None:
        if participants < MINIMUM or entries < MINIMUM:
            raise CommandError(f"--participants and --entries must be at least {MINIMUM}.")
        if requests < 1:
            raise CommandError("--requests must be at least 1.")
        chosen = self._pages(pages)
        shapes = {
            "full": bench.Shape.of(participants=participants, entries=entries),
            "small": bench.Shape.of(
                participants=participants // bench.SMALL_DIVISOR, entries=entries // bench.SMALL_DIVISOR
            ),
        }
        run = uuid.uuid4().hex[:8]
        names = {label: f"benchpages_{run}_{label}" for label in shapes}
        admin = bench.connect("postgres")
        original = connection.settings_dict["NAME"]
        created: list[str] = []
        try:
            self.stderr.write(f"migrating {names['full']} ...")
            started = time.perf_counter()
            bench.create_database(admin, names["full"])
            created.append(names["full"])
            bench.migrate(names["full"], settings.BASE_DIR)
            bench.create_database(admin, names["small"], template=names["full"])  # a copy of the migrated schema
            created.append(names["small"])
            migrate_seconds = round(time.perf_counter() - started, 1)
            targets, builds, sizes = [], {}, {}
            for label, shape in shapes.items():
                name = names[label]
                self.stderr.write(f"building {name}: {shape} ...")
                with bench.django_on(name):
                    staff = bench.create_staff()
                builds[label] = bench.build(name, shape, staff, self.stderr.write)
                sizes[label] = bench.sizes(name, shape)
                fixtures = bench.fixtures(name, shape, staff)
                self.stderr.write(f"built {name} in {builds[label].seconds} s: {sizes[label]}, {fixtures}")
                targets.append(bench.Target(label=label, database=name, staff=staff, fixtures=fixtures))
            self.stderr.write(f"measuring {len(chosen)} pages, {requests} requests each ...")
            with bench.measuring_settings():
                measurer = bench.Measurer(targets, requests=requests, log=self.stderr.write)
                measured = [(spec.name, measurer.page(spec)) for spec in chosen]
        except bench.BenchError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bench.use_database(original)
            connection.close()
            if keep_db:
                self.stderr.write(f"kept: {', '.join(created)}")
            else:
                for name in created:
                    bench.drop_database(admin, name)
            admin.close()
        results = [bench.compare(name, figures["full"], figures["small"]) for name, figures in measured]
        output = {
            "participants": participants,
            "entries": entries,
            "requests": requests,
            "warmup": bench.WARMUP,
            "conn_max_age": connection.settings_dict.get("CONN_MAX_AGE"),
            "migrate_seconds": migrate_seconds,
            "build_seconds": {label: build.seconds for label, build in builds.items()},
            "build_phases": {label: build.phases for label, build in builds.items()},
            "triggers_skipped": {label: build.triggers_skipped for label, build in builds.items()},
            "sizes": sizes,
            "pages": results,
            "targets": bench.targets(results),
        }
        self.stdout.write(json.dumps(output))

    @staticmethod
    def _pages(pages: str) -> list[bench.PageSpec]:
        if not pages:
            return list(bench.PAGES)
        wanted = [name.strip() for name in pages.split(",") if name.strip()]
        unknown = sorted(set(wanted) - set(bench.PAGE_NAMES))
        if unknown:
            raise CommandError(f"unknown pages {unknown}; known: {', '.join(bench.PAGE_NAMES)}")
        return [spec for spec in bench.PAGES if spec.name in wanted]
