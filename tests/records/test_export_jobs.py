"""Large exports as Celery jobs (issue 19): asked for by the auditor from filters, written in one
snapshot as CSV or XLSX in constant memory, kept with their checksum for the auditor who asked,
logged (the run and every download) so that "who exported person X" finds them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tracemalloc
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from records import export_jobs
from records.export_jobs import ExportRefused, export_path, export_request, export_run
from records.filters import AccessLogFilter
from records.models import AccessLog, AuditEvent, ExportedPerson, ExportJob
from records.selectors import access_log_entries
from records.services import Actor
from tests.conftest import PAYER, CeleryWorker, line_for, order_text, take_in, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

BOM = b"\xef\xbb\xbf"
LEDGER_HEADERS = {
    "ru": [
        "Запись",
        "Участник: ИИН",
        "Участник: фамилия, имя, отчество",
        "Период",
        "Вид",
        "Сумма",
        "ИИН/БИН плательщика",
        "Платежное поручение: референс",
        "Дата поступления",
        "Время проведения",
        "Исправляет",
    ],
    "kk": [
        "Жазба",
        "Қатысушы: ЖСН",
        "Қатысушы: тегі, аты, әкесінің аты",
        "Кезең",
        "Түрі",
        "Сома",
        "Төлеушінің ЖСН/БСН",
        "Төлем тапсырмасы: референс",
        "Түскен күні",
        "Есепке алынған уақыты",
        "Түзетеді",
    ],
}
OTHER_PAYER = "971240001315"  # a fictional BIN with a valid check digit
CONTRIBUTION = {"ru": "Социальные отчисления", "kk": "Әлеуметтік аударымдар"}


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path: Path) -> Path:
    root = tmp_path / "exports"
    settings.EXPORT_ROOT = root
    return root


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The jobs ``export_request`` queued (the test runs them itself, in this process)."""
    sent: list[int] = []
    monkeypatch.setattr(export_jobs, "_enqueue", sent.append)
    return sent


@pytest.fixture
def ledger(people) -> list[Any]:
    """Two orders: three entries of three people; the second order from another payer."""
    from contributions.models import LedgerEntry

    take_in(order_text([line_for(people[1]), line_for(people[2], amount="1234,56")]))
    take_in(order_text([line_for(people[3], period="092023")], reference="SO2", number="502", payer_idn=OTHER_PAYER))
    return list(LedgerEntry.objects.select_related("participant", "order").order_by("id"))


def ask(
    user: Any, *, kind: str = "ledger", file_format: str = "csv", language: str = "ru", **filters: Any
) -> ExportJob:
    return export_request(actor=Actor.of(user), kind=kind, file_format=file_format, filters=filters, language=language)


def run(job: ExportJob) -> ExportJob:
    done = export_run(job_id=job.pk)
    assert done is not None
    return done


def read_csv(path: Path) -> list[list[str]]:
    content = path.read_bytes()
    assert content.startswith(BOM + b'"')
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def local(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


# --- The file --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_csv_file_word_for_word(auditor, ledger, queued, language: str) -> None:
    job = run(ask(auditor, language=language))
    assert job.state == ExportJob.State.DONE, job.error
    rows = read_csv(export_path(job))
    expected = [LEDGER_HEADERS[language]]
    for entry in ledger:
        expected.append(
            [
                str(entry.pk),
                entry.participant.iin,
                entry.participant.full_name,
                entry.period.strftime("%d.%m.%Y"),
                CONTRIBUTION[language],
                f"{entry.amount:.2f}".replace(".", ","),
                entry.payer_idn,
                entry.order.reference,
                "24.11.2023",
                local(entry.posted_at).strftime("%d.%m.%Y %H:%M:%S"),
                "",
            ]
        )
    assert rows == expected
    assert rows[2][5] == "1234,56"
    assert (job.rows_total, job.rows_written) == (3, 3)


def test_the_xlsx_file_has_typed_cells_and_headers_in_the_readers_language(auditor, ledger, queued) -> None:
    job = run(ask(auditor, file_format="xlsx", language="kk"))
    sheet = load_workbook(export_path(job)).active
    header, *rows = list(sheet.iter_rows())
    assert [cell.value for cell in header] == LEDGER_HEADERS["kk"]
    assert len(rows) == 3
    first, entry = rows[0], ledger[0]
    assert (first[1].value, first[1].data_type) == (entry.participant.iin, "s")
    assert first[2].value == entry.participant.full_name
    assert first[3].is_date
    assert first[3].value == datetime(2023, 10, 1)
    assert first[4].value == CONTRIBUTION["kk"]
    assert first[5].data_type == "n"
    assert Decimal(str(first[5].value)) == Decimal("7000.00")
    assert first[8].is_date
    assert first[8].value == datetime(2023, 11, 24)
    assert first[9].is_date
    assert first[9].value.replace(microsecond=0) == local(entry.posted_at).replace(microsecond=0)


def test_text_that_a_spreadsheet_would_run_stays_text(auditor, people, queued) -> None:
    from dataclasses import replace

    take_in(order_text([line_for(replace(people[1], last_name="=HYPERLINK(1)"))]))
    csv_job = run(ask(auditor, kind="order_lines"))
    xlsx_job = run(ask(auditor, kind="order_lines", file_format="xlsx"))
    name_column = 7
    assert read_csv(export_path(csv_job))[1][name_column].startswith("'=HYPERLINK(1)")
    cell = list(load_workbook(export_path(xlsx_job)).active.iter_rows())[1][name_column]
    assert (cell.data_type, str(cell.value).startswith("=HYPERLINK")) == ("s", True)


def test_the_checksum_and_size_are_the_files(auditor, ledger, queued) -> None:
    job = run(ask(auditor, file_format="xlsx"))
    content = export_path(job).read_bytes()
    assert job.sha256 == hashlib.sha256(content).hexdigest()
    assert job.size == len(content)


def test_filters_choose_the_rows(auditor, ledger, queued) -> None:
    job = run(ask(auditor, payer_idn=OTHER_PAYER))
    rows = read_csv(export_path(job))[1:]
    assert [row[0] for row in rows] == [str(ledger[2].pk)]
    job = run(ask(auditor, participant_iin=ledger[0].participant.iin, period_from="2023-10-01"))
    assert [row[0] for row in read_csv(export_path(job))[1:]] == [str(ledger[0].pk)]


# --- Asking for one --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"period_from": "31.02.2024"}, "period_from"),
        ({"payer_idn": "123456789012"}, "payer_idn"),
        ({"kind": "gift"}, "kind"),
        ({"period_from": "2024-02-01", "period_to": "2024-01-01"}, "period_to"),
        ({"everything": "yes"}, "__all__"),
    ],
)
def test_bad_filters_are_refused_naming_the_field_and_no_job_is_made(auditor, queued, filters, field) -> None:
    with pytest.raises(ExportRefused) as refused:
        ask(auditor, **filters)
    assert field in refused.value.message_dict
    assert not ExportJob.objects.exists()
    assert queued == []


def test_the_page_answers_400_with_the_error_and_makes_no_job(auditor, queued) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    client.force_login(auditor)
    response = client.post(
        reverse("export_jobs"), {"kind": "ledger", "file_format": "csv", "payer_idn": "12", "unknown": "1"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "unknown" in page  # the refused key is named
    assert not ExportJob.objects.exists()


def test_a_request_is_audited_and_queued_on_commit(auditor, queued) -> None:
    job = ask(auditor, kind="payments", file_format="xlsx", month_from="2024-01", held="held")
    assert queued == [job.pk]
    assert job.state == ExportJob.State.QUEUED
    assert job.filters == {"month_from": "2024-01", "held": "held"}
    event = AuditEvent.objects.get(action="export.request")
    assert (event.actor, event.object_pk, event.data["kind"]) == (auditor, str(job.pk), "payments")


@pytest.mark.parametrize("role", [None, "specialist", "senior_specialist", "head_of_unit", "head_of_service"])
def test_only_the_auditor_may_ask(make_user, queued, role) -> None:
    with pytest.raises(PermissionDenied):
        ask(make_user(role))
    assert not ExportJob.objects.exists()


def test_the_page_by_role(make_user, queued, ledger) -> None:
    auditor = make_user("auditor")
    for role in (None, "specialist", "head_of_service"):
        client = Client()
        client.force_login(make_user(role))
        assert client.get(reverse("export_jobs")).status_code == 403
        assert client.post(reverse("export_jobs"), {"kind": "ledger", "file_format": "csv"}).status_code == 403
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    client.force_login(auditor)
    assert client.get(reverse("export_jobs")).status_code == 200
    response = client.post(reverse("export_jobs"), {"kind": "ledger", "file_format": "csv", "period_from": ""})
    assert response.status_code == 302
    (job,) = ExportJob.objects.all()
    assert queued == [job.pk]
    assert job.requested_by == auditor
    assert job.filters == {}


# --- Download and the access log -------------------------------------------------------------


def test_only_the_requester_downloads_and_each_download_is_logged(make_user, ledger, queued) -> None:
    auditor, other = make_user("auditor"), make_user("auditor")
    job = run(ask(auditor))
    url = reverse("export_download", kwargs={"pk": job.pk})
    intruder = Client()
    intruder.force_login(other)
    assert intruder.get(url).status_code == 404
    head = Client()
    head.force_login(make_user("head_of_service"))
    assert head.get(url).status_code == 403
    owner = Client()
    owner.force_login(auditor)
    response = owner.get(url)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert hashlib.sha256(content).hexdigest() == job.sha256 == response["X-Checksum-SHA256"]
    downloads = AccessLog.objects.filter(view=export_jobs.DOWNLOAD_VIEW)
    assert [(d.user, d.query["export_job"], d.query["sha256"]) for d in downloads] == [(auditor, job.pk, job.sha256)]
    # The page lists the job with its checksum and link, for its owner only.
    page = owner.get(reverse("export_job_table")).content.decode()
    assert job.sha256 in page
    assert url in page
    assert job.sha256 not in intruder.get(reverse("export_job_table")).content.decode()


def test_the_export_is_logged_and_found_by_who_read_person_x(auditor, ledger, queued) -> None:
    job = run(ask(auditor, kind="ledger", period_from="2023-10-01"))
    entry = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT, view=export_jobs.EXPORT_VIEW)
    assert (entry.user, entry.row_count) == (auditor, 2)
    assert entry.query == {
        "export_job": job.pk,
        "kind": "ledger",
        "filters": {"period_from": "2023-10-01"},
        "format": "csv",
        "sha256": job.sha256,
        "persons": 3,  # two participants and the payer
    }
    assert set(ExportedPerson.objects.filter(job=job).values_list("iin", flat=True)) == {
        ledger[0].participant.iin,
        ledger[1].participant.iin,
        PAYER,
    }

    def who_read(iin: str) -> list[AccessLog]:
        filters = AccessLogFilter({"iin": iin}, queryset=access_log_entries())
        assert filters.is_valid(), filters.errors
        return list(filters.qs)

    assert entry in who_read(ledger[0].participant.iin)
    assert entry in who_read(PAYER)
    assert entry not in who_read(ledger[2].participant.iin)  # filtered out of this file


def test_who_read_person_x_uses_the_indexes(auditor, ledger, queued) -> None:
    """The export arm of the IIN filter is an index lookup on both sides (no scan of the log)."""
    run(ask(auditor))
    filters = AccessLogFilter({"iin": ledger[0].participant.iin}, queryset=access_log_entries())
    assert filters.is_valid()
    with connection.cursor() as cursor:
        # A handful of rows: tell the planner what a national-size log would (no scans).
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        sql, params = filters.qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")
    assert "BitmapOr" in plan
    assert "Bitmap Index Scan on accesslog_export_job_idx" in plan, plan
    assert "Bitmap Index Scan on exported_person_iin_job" in plan, plan


# --- Running ---------------------------------------------------------------------------------


def test_the_task_twice_does_the_job_once(auditor, ledger, queued) -> None:
    from records.tasks import run_export_task

    job = ask(auditor)
    assert run_export_task.apply(args=(job.pk,)).get() == ExportJob.State.DONE
    first = ExportJob.objects.get(pk=job.pk)
    assert run_export_task.apply(args=(job.pk,)).get() is None  # done: not done again
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.sha256, again.finished_at) == (first.sha256, first.finished_at)
    assert AccessLog.objects.filter(view=export_jobs.EXPORT_VIEW).count() == 1
    # A second delivery while it runs does nothing either.
    running = ask(auditor)
    ExportJob.objects.filter(pk=running.pk).update(state=ExportJob.State.RUNNING)
    assert export_run(job_id=running.pk) is None
    assert ExportJob.objects.get(pk=running.pk).state == ExportJob.State.RUNNING


def test_a_failure_leaves_no_file_and_says_why(auditor, ledger, queued, monkeypatch, export_root: Path) -> None:
    def broken(*args: Any, **kwargs: Any) -> int:
        path = args[2]
        path.write_text("half a file")
        raise OSError("disk full")

    monkeypatch.setattr(export_jobs, "write_file", broken)
    job = run(ask(auditor))
    assert job.state == ExportJob.State.FAILED
    assert "disk full" in job.error
    assert [p for p in export_root.rglob("*") if p.is_file()] == []
    assert not ExportedPerson.objects.filter(job=job).exists()
    assert not AccessLog.objects.filter(view=export_jobs.EXPORT_VIEW).exists()


def test_progress_is_visible_while_the_snapshot_is_open(auditor, ledger, queued, monkeypatch, settings) -> None:
    """Written through a connection of its own: another connection sees it before the end."""
    from django.db import connections

    settings.EXPORT_PROGRESS_EVERY = 1
    seen: list[tuple[int, int]] = []
    original = export_jobs.ExportProgress.write
    other = connections.create_connection("default")

    def write(self: Any, **counts: int) -> None:
        original(self, **counts)
        with other.cursor() as cursor:
            cursor.execute("SELECT rows_written, rows_total FROM records_exportjob WHERE id = %s", [self.job_id])
            seen.append(cursor.fetchone())

    monkeypatch.setattr(export_jobs.ExportProgress, "write", write)
    try:
        run(ask(auditor))
    finally:
        other.close()
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_the_file_is_one_snapshot(auditor, ledger, queued, monkeypatch) -> None:
    """A row committed by someone else after the export counted its rows is not in the file:
    the count, the rows and the people are read in one REPEATABLE READ snapshot."""
    from django.db import connections

    other = connections.create_connection("default")
    original = export_jobs.ExportProgress.write

    def write(self: Any, **counts: int) -> None:
        original(self, **counts)
        if "rows_total" in counts:  # counted, not streamed yet: another entry is committed
            with other.cursor() as cursor:
                cursor.execute(
                    "WITH l AS (INSERT INTO contributions_orderline (order_id, sequence, file_line, iin,"
                    " last_name, first_name, patronymic, birth_date, period, period_text, amount, status, reason)"
                    " SELECT order_id, sequence + 1000, file_line, iin, last_name, first_name, patronymic,"
                    " birth_date, period, period_text, amount, status, reason FROM contributions_orderline"
                    " ORDER BY id LIMIT 1 RETURNING id)"
                    " INSERT INTO contributions_ledgerentry (participant_id, period, kind, amount, payer_idn,"
                    " order_id, line_id, received, posted_at) SELECT e.participant_id, e.period, e.kind,"
                    " e.amount, e.payer_idn, e.order_id, l.id, e.received, now() FROM l,"
                    " (SELECT * FROM contributions_ledgerentry ORDER BY id LIMIT 1) e"
                )

    monkeypatch.setattr(export_jobs.ExportProgress, "write", write)
    try:
        job = run(ask(auditor))
    finally:
        other.close()
    from contributions.models import LedgerEntry

    assert LedgerEntry.objects.count() == 4
    assert (job.rows_total, job.rows_written, len(read_csv(export_path(job))) - 1) == (3, 3, 3)


def test_an_interrupted_job_is_swept(auditor, queued, export_root: Path) -> None:
    from records.export_jobs import export_sweep

    job = ask(auditor)
    part = export_path(job).with_name(export_path(job).name + ".part")
    part.parent.mkdir(parents=True)
    part.write_text("partial")
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.RUNNING, started_at=timezone.now() - timedelta(days=1)
    )
    lost = ask(auditor)
    ExportJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
    queued.clear()
    assert export_sweep(actor=Actor(label="test")) == 1
    assert ExportJob.objects.get(pk=job.pk).state == ExportJob.State.FAILED
    assert not part.exists()
    assert queued == [lost.pk]  # a job the broker lost is queued again


# --- Constant memory -------------------------------------------------------------------------


def _peak_of_export(auditor: Any, rows: int, file_format: str) -> int:
    """Python's peak allocation (tracemalloc) while one job writes every ledger row (``rows``)."""
    job = ask(auditor, file_format=file_format)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        done = run(job)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (done.state, done.rows_written) == (ExportJob.State.DONE, rows), done.error
    return peak


def _ledger_rows(count: int) -> None:
    from django.db import transaction

    from contributions.benchmarks.exports import build_ledger

    with transaction.atomic():
        build_ledger(count)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_memory_does_not_grow_with_the_rows(auditor, queued, monkeypatch, file_format: str) -> None:
    """Ten times the rows, the same peak: the rows are streamed, never held. Memory is bounded
    by the cursor's chunk (made 200 rows here, so that both exports are many chunks long) and
    measured after a first export, so that what is loaded once (modules, catalogues) is not
    counted."""
    monkeypatch.setattr(export_jobs, "CHUNK_ROWS", 200)
    _ledger_rows(200)
    _peak_of_export(auditor, 200, file_format)
    _ledger_rows(1_800)
    small = _peak_of_export(auditor, 2_000, file_format)
    _ledger_rows(18_000)
    large = _peak_of_export(auditor, 20_000, file_format)
    assert large < small * 1.1 + 64 * 1024, (small, large)


# --- A real worker ---------------------------------------------------------------------------


@pytest.mark.celery
def test_a_worker_runs_the_job_asked_for_on_the_page(celery_worker: CeleryWorker, auditor, ledger, settings) -> None:
    from config.settings import test as worker_settings

    settings.EXPORT_ROOT = worker_settings.EXPORT_ROOT  # where the worker, started with them, writes
    client = Client()
    client.force_login(auditor)
    response = client.post(reverse("export_jobs"), {"kind": "ledger", "file_format": "xlsx"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    wait_until(lambda: ExportJob.objects.get(pk=job.pk).state == ExportJob.State.DONE, describe=celery_worker.output)
    job.refresh_from_db()
    response = client.get(reverse("export_download", kwargs={"pk": job.pk}))
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert hashlib.sha256(content).hexdigest() == job.sha256
    assert len(list(load_workbook(io.BytesIO(content)).active.iter_rows())) == 4


# --- The benchmark command -------------------------------------------------------------------


def test_bench_export_prints_its_json(capsys) -> None:
    call_command("bench_export", rows=300, library_rows=100)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(line)
    assert set(result) >= {"rows", "memory_method", "streamed", "import_export", "ratio", "import_export_rows"}
    assert (result["rows"], result["streamed"]["rows"], result["import_export"]["rows"]) == (300, 300, 100)
    assert {"seconds", "peak_mb"} <= set(result["streamed"]) & set(result["import_export"])
    assert (result["streamed"]["file_rows"], result["import_export"]["file_rows"]) == (300, 100)
    from contributions.models import LedgerEntry

    assert not LedgerEntry.objects.exists()  # rolled back


# --- The admin ---------------------------------------------------------------------------------


def _admin_export(client: Client, model: Any, query: str) -> Any:
    from django.contrib import admin

    model_admin: Any = admin.site._registry[model]
    resource = model_admin.get_export_resource_classes(None)[0].__name__.lower()
    index = next(i for i, f in enumerate(model_admin.get_export_formats()) if f().get_title() == "csv")
    opts = model._meta
    return client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_export") + query,
        {"format": str(index), "resource": "0", f"{resource}_id": "on"},
    )


def test_a_large_admin_export_sends_the_auditor_to_the_job_page(auditor, ledger, settings) -> None:
    from urllib.parse import parse_qs, urlsplit

    from contributions.models import LedgerEntry, PaymentOrder

    settings.EXPORT_MAX_ROWS = 1
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    client.force_login(auditor)
    query = f"?kind__exact=contribution&period__gte=2023-10-01&period__lt=2023-11-01&q={PAYER}"
    response = _admin_export(client, LedgerEntry, query)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("export_jobs")
    assert parse_qs(target.query) == {
        "kind": ["ledger"],
        "entry_kind": ["contribution"],
        "period_from": ["2023-10-01"],
        "period_to": ["2023-10-31"],  # the admin's exclusive end, as an inclusive date
    }
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'value="2023-10-31"' in page.content.decode()
    assert not ExportJob.objects.exists()  # the auditor starts it on the page
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()
    # Within the limit, the admin exports as before; other tables keep their refusal.
    settings.EXPORT_MAX_ROWS = 3
    assert _admin_export(client, LedgerEntry, "").status_code == 200
    settings.EXPORT_MAX_ROWS = 1
    refused = _admin_export(client, PaymentOrder, "")
    assert refused.status_code == 200
    assert "Filter the list first" in refused.content.decode() or "Сначала отфильтруйте" in refused.content.decode()
