"""``manage.py bench_export [--rows N] [--library-rows M] [--format csv|xlsx]``: the streamed
export of N ledger rows (``records.exports``, as an export job writes it) next to
django-import-export's export of the same rows (the ledger admin's resource and format, as the
admin builds it), in the same run (issue 19).

The rows (default 1 000 000) are made set-based inside one transaction that is rolled back at
the end (``contributions.benchmarks.exports``): nothing stays in the database. The transaction
is ``REPEATABLE READ``, as the export job's snapshot is (a job's is also ``READ ONLY``; here the
same transaction made the rows). Both exports write their file to a temporary directory that is
removed.

Peak memory is the process's resident high-water mark (``VmHWM``) during each export, reset
before it through ``/proc/self/clear_refs`` (``memory_method: rss_hwm``); where the kernel does
not allow that, Python's allocations measured by tracemalloc (``tracemalloc``). The streamed
export runs first, so that memory the library's export keeps does not count against it.
``--library-rows`` runs the library on the first M rows only (it holds all rows in memory and
is slow at a million); the JSON says so.

Prints one JSON line.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import translation

from contributions.benchmarks.exports import PeakMemory, build_ledger, timed
from contributions.models import LedgerEntry
from records.export_formats import CSV, XLSX
from records.export_jobs import CHUNK_ROWS
from records.exports import get_kind, persons_insert, stream, write_file
from records.models import ExportedPerson, ExportJob


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time and peak memory of the streamed ledger export next to django-import-export's export."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows to export")
        parser.add_argument(
            "--library-rows", type=int, default=None, help="rows for django-import-export (default: --rows)"
        )
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--language", default="ru")

    def handle(self, *args: Any, **options: Any) -> None:
        rows: int = options["rows"]
        library_rows: int = min(options["library_rows"] or rows, rows)
        if rows < 1 or library_rows < 1:
            raise CommandError("--rows and --library-rows must be at least 1.")
        result: dict[str, Any] = {}
        try:
            with tempfile.TemporaryDirectory(prefix="bench-export-") as folder, transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                result = self._run(rows, library_rows, options["format"], options["language"], Path(folder))
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(json.dumps(result))

    def _run(self, rows: int, library_rows: int, file_format: str, language: str, folder: Path) -> dict[str, Any]:
        started = time.perf_counter()
        built = build_ledger(rows)
        build_seconds = time.perf_counter() - started
        kind = get_kind("ledger")
        if kind is None:
            raise CommandError("The ledger export is not registered.")
        memory = PeakMemory()
        user = User.objects.create_user(f"bench-export-{time.time_ns()}")
        job = ExportJob.objects.create(kind="ledger", file_format=file_format, language=language, requested_by=user)
        ours = folder / f"streamed.{file_format}"
        theirs = folder / f"import_export.{file_format}"

        def streamed() -> int:
            with translation.override(language):
                rows = kind.rows({}).filter(id__gte=built.first_entry_id)
                written = write_file(kind, file_format, ours, stream(kind.select(rows), CHUNK_ROWS), lambda _n: None)
                # The people in the file: the job's one INSERT … SELECT (``export_run``).
                statement, params = persons_insert(job.pk, kind.persons_queryset(rows))
                with connection.cursor() as cursor:
                    cursor.execute(statement, params)
            return written

        def library() -> int:
            model_admin: Any = admin.site._registry[LedgerEntry]
            request = RequestFactory().get("/")
            request.user = User(is_superuser=True, is_active=True)
            ours_rows = LedgerEntry.objects.filter(id__gte=built.first_entry_id).order_by("id")
            last = ours_rows.values_list("id", flat=True)[library_rows - 1]
            queryset = ours_rows.filter(id__lte=last)
            with translation.override(language):
                data = model_admin._export_file(CSV() if file_format == "csv" else XLSX(), request, queryset)
            theirs.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
            return library_rows

        ours_result = timed(memory, streamed)
        ours_result["size_bytes"] = ours.stat().st_size
        ours_result["file_rows"] = _file_rows(ours)
        ours_result["persons"] = ExportedPerson.objects.filter(job=job).count()
        theirs_result = timed(memory, library)
        theirs_result["size_bytes"] = theirs.stat().st_size
        theirs_result["file_rows"] = _file_rows(theirs)
        return {
            "rows": rows,
            "format": file_format,
            "memory_method": memory.method,
            "build_seconds": round(build_seconds, 2),
            "streamed": ours_result,
            "import_export": theirs_result,
            "import_export_rows": library_rows,
            "ratio": {
                "seconds_per_row": _ratio(
                    theirs_result["seconds"] / library_rows, ours_result["seconds"] / max(rows, 1)
                ),
                "peak_mb": _ratio(theirs_result["peak_mb"], ours_result["peak_mb"]),
            },
        }


def _file_rows(path: Path) -> int:
    """The data rows of a written file (a check that both exports hold what they say)."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        return sum(1 for _row in book.active.iter_rows(values_only=True)) - 1
    with path.open(encoding="utf-8-sig", newline="") as data:
        return sum(1 for _row in csv.reader(data, delimiter=";")) - 1


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None
