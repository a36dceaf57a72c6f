"""Large exports as Celery jobs (issue 19): asked for by the auditor from filters, written in one
snapshot as CSV or XLSX in constant memory, kept with their checksum for the auditor who asked,
logged (the run and every download) so that "who exported person X" finds them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import threading
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
from django.utils import timezone, translation
from openpyxl import load_workbook

from records import export_jobs
from records.export_jobs import ExportRefused, UnsafeExportPath, export_path, export_request, export_run, export_sweep
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
    assert job.error == "OSError: Файл не удалось записать; подробности — у администратора."  # not "disk full"
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


# --- A file changed on disk is not served ----------------------------------------------------


def client_of(user: Any, language: str = "ru") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


CHANGED = {
    "ru": "уже не тот, что был записан",
    "kk": "жазылған файл емес",
}


@pytest.mark.parametrize("change", ["a byte in place", "a byte more", "another export's file"])
@pytest.mark.parametrize("language", ["ru", "kk"])
def test_a_file_changed_on_disk_is_refused_and_not_served(
    auditor, ledger, queued, caplog, change: str, language: str
) -> None:
    job = run(ask(auditor))
    path = export_path(job)
    content = path.read_bytes()
    if change == "a byte in place":
        path.write_bytes(content.replace(b"7", b"9"))  # the same size, other bytes
    elif change == "a byte more":
        path.write_bytes(content + b"\n")
    else:
        other = run(ask(auditor, period_from="2023-10-01"))
        path.write_bytes(export_path(other).read_bytes())
    caplog.set_level(logging.ERROR, logger="records.export_jobs")
    response = client_of(auditor, language).get(reverse("export_download", args=[job.pk]))
    assert response.status_code == 409
    assert not response.streaming
    assert "Content-Disposition" not in response
    page = response.content.decode()
    assert CHANGED[language] in page
    assert content.decode("utf-8-sig")[:40] not in page
    assert not AccessLog.objects.filter(view=export_jobs.DOWNLOAD_VIEW).exists()  # nothing was read
    changed = path.read_bytes()
    assert (
        f"export {job.pk}: the file {path} is not the job's (SHA-256 {hashlib.sha256(changed).hexdigest()},"
        f" {len(changed)} bytes; the job's: {job.sha256}, {job.size} bytes); not served"
    ) in [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


def test_the_file_is_hashed_in_blocks(auditor, ledger, queued, export_root: Path) -> None:
    """Checking a 32 MB file before serving it does not read it into memory."""
    job = run(ask(auditor))
    path = export_path(job)
    block = b"x;" * (1 << 19)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(32):
            out.write(block)
            digest.update(block)
    ExportJob.objects.filter(pk=job.pk).update(sha256=digest.hexdigest(), size=32 * len(block))
    client = client_of(auditor)
    tracemalloc.start()
    try:
        response = client.get(reverse("export_download", args=[job.pk]))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    response.close()
    assert peak < 4 * 1024 * 1024, peak


# --- The file stays under EXPORT_ROOT -----------------------------------------------------------


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file outside EXPORT_ROOT that the web and the worker processes can read and write."""
    path = tmp_path / "victim.csv"
    path.write_text("not an export")
    return path


def _outside_names(victim: Path, export_root: Path) -> dict[str, str]:
    link = export_root / "2023" / "link.csv"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(victim)
    return {
        "absolute": str(victim),
        "climbs": "../victim.csv",
        "climbs inside": "2023/../../victim.csv",
        "a link out": "2023/link.csv",
        "the root itself": ".",
    }


@pytest.mark.parametrize("name", ["absolute", "climbs", "climbs inside", "a link out", "the root itself"])
def test_a_file_name_outside_the_root_is_never_served(
    auditor, ledger, queued, victim: Path, export_root: Path, name: str
) -> None:
    job = run(ask(auditor))
    file_name = _outside_names(victim, export_root)[name]
    content = victim.read_bytes()
    # The checksum even matches: the name alone must keep the file from being served.
    ExportJob.objects.filter(pk=job.pk).update(
        file_name=file_name, sha256=hashlib.sha256(content).hexdigest(), size=len(content)
    )
    job.refresh_from_db()
    with pytest.raises(UnsafeExportPath):
        export_path(job)
    response = client_of(auditor).get(reverse("export_download", args=[job.pk]))
    assert response.status_code == 404
    assert not AccessLog.objects.filter(view=export_jobs.DOWNLOAD_VIEW).exists()


@pytest.mark.parametrize("step", ["run", "sweep"])
@pytest.mark.parametrize("name", ["absolute", "climbs", "a link out"])
def test_a_job_named_outside_the_root_fails_and_touches_nothing_there(
    auditor, ledger, queued, victim: Path, export_root: Path, step: str, name: str
) -> None:
    job = ask(auditor)
    ExportJob.objects.filter(pk=job.pk).update(file_name=_outside_names(victim, export_root)[name])
    if step == "run":
        done = run(job)
    else:
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportJob.State.RUNNING, started_at=timezone.now() - timedelta(days=1)
        )
        assert export_sweep(actor=Actor(label="test")) == 1
        done = ExportJob.objects.get(pk=job.pk)
    assert done.state == ExportJob.State.FAILED
    assert victim.read_text() == "not an export"  # neither written over nor removed
    assert not victim.with_name("victim.csv.part").exists()
    assert not AccessLog.objects.filter(view=export_jobs.EXPORT_VIEW).exists()


# --- So many jobs at a time per user ------------------------------------------------------------


def test_a_user_has_so_many_jobs_waiting_or_running_at_a_time(make_user, queued, settings) -> None:
    settings.EXPORT_MAX_ACTIVE_PER_USER = 2
    auditor, other = make_user("auditor"), make_user("auditor")
    first, second = ask(auditor), ask(auditor)
    ExportJob.objects.filter(pk=first.pk).update(state=ExportJob.State.RUNNING)
    with pytest.raises(ExportRefused) as refused, translation.override("ru"):
        ask(auditor)
    assert refused.value.message_dict == {
        "__all__": [
            "У вас уже 2 экспорта ожидают или выполняются (больше одновременно нельзя);"
            " запросите следующий, когда один из них завершится."
        ]
    }
    assert ExportJob.objects.filter(requested_by=auditor).count() == 2
    assert queued == [first.pk, second.pk]
    ask(other)  # a limit of each user's own
    ExportJob.objects.filter(pk=first.pk).update(state=ExportJob.State.FAILED)
    ExportJob.objects.filter(pk=second.pk).update(
        state=ExportJob.State.DONE, sha256="0" * 64, file_name="x.csv", size=1
    )
    ask(auditor)
    ask(auditor)  # finished jobs do not count
    with pytest.raises(ExportRefused):
        ask(auditor)


def test_the_page_refuses_a_request_over_the_limit(auditor, queued, settings) -> None:
    assert settings.EXPORT_MAX_ACTIVE_PER_USER == 3  # the default
    client = client_of(auditor, "kk")
    statuses = [client.post(reverse("export_jobs"), {"kind": "ledger", "file_format": "csv"}) for _ in range(4)]
    assert [response.status_code for response in statuses] == [302, 302, 302, 400]
    assert "Сізде күтудегі немесе орындалып жатқан 3 экспорт бар" in statuses[-1].content.decode()
    assert ExportJob.objects.filter(requested_by=auditor).count() == 3


def _someone_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


def test_two_requests_at_once_are_counted_one_after_the_other(auditor, queued, monkeypatch, settings) -> None:
    """The first request holds its transaction open (its job made, not committed); the second,
    at the same moment, waits for it and then counts its job: one job, not two."""
    settings.EXPORT_MAX_ACTIVE_PER_USER = 1
    inside, release = threading.Event(), threading.Event()
    from records.services import audit_record as real

    def audit_record(**kwargs: Any) -> Any:
        event = real(**kwargs)
        if threading.current_thread().name == "first":
            inside.set()
            release.wait(60)
        return event

    monkeypatch.setattr(export_jobs, "audit_record", audit_record)
    outcomes: dict[str, Any] = {}

    def request() -> None:
        try:
            outcomes[threading.current_thread().name] = ask(auditor).pk
        except ExportRefused as refused:
            outcomes[threading.current_thread().name] = refused
        finally:
            connection.close()

    first = threading.Thread(target=request, name="first")
    first.start()
    try:
        assert inside.wait(60)
        second = threading.Thread(target=request, name="second")
        second.start()
        wait_until(lambda: "second" in outcomes or _someone_waits_on_a_lock())
    finally:
        release.set()
        first.join(60)
    second.join(60)
    assert isinstance(outcomes["first"], int)
    assert isinstance(outcomes["second"], ExportRefused), outcomes
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [outcomes["first"]]


# --- A failed job names no server path ----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (PermissionError, "PermissionError: Файл не удалось записать; подробности — у администратора."),
        (RuntimeError, "RuntimeError: Экспорт не удался; подробности — у администратора."),
    ],
)
def test_a_failed_job_shows_no_server_path(
    auditor, ledger, queued, monkeypatch, caplog, export_root: Path, error: type[Exception], shown: str
) -> None:
    def refused(kind: Any, file_format: str, path: Path, rows: Any, progress: Any) -> int:
        if error is PermissionError:
            raise PermissionError(13, "Permission denied", str(path))
        raise error(f"could not write {path}")

    monkeypatch.setattr(export_jobs, "write_file", refused)
    job = run(ask(auditor))
    assert (job.state, job.error) == (ExportJob.State.FAILED, shown)
    client = client_of(auditor)
    for page in (client.get(reverse("export_jobs")), client.get(reverse("export_job_table"))):
        text = page.content.decode()
        assert shown in text
        assert str(export_root) not in text
        assert ".part" not in text
    logged = [r for r in caplog.records if r.name == "records.export_jobs" and r.exc_info]
    assert logged, "the whole error is logged"
    assert str(export_root) in str(logged[0].exc_info[1])
    assert str(job.pk) in logged[0].getMessage()


# --- A job fails whatever its clean-up meets; the sweep takes each job on its own ---------------


def test_an_unusable_export_root_fails_the_job(auditor, ledger, queued, settings, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the exports' directory should be")
    settings.EXPORT_ROOT = blocker / "exports"
    job = run(ask(auditor))  # does not raise
    assert (job.state, job.error) == (
        ExportJob.State.FAILED,
        "NotADirectoryError: Файл не удалось записать; подробности — у администратора.",
    )
    settings.EXPORT_STUCK_AFTER_SECONDS = 0
    assert export_sweep(actor=Actor(label="test")) == 0


def _stuck(job: ExportJob) -> None:
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.RUNNING, started_at=timezone.now() - timedelta(days=1)
    )


def test_the_sweep_fails_a_job_whose_files_cannot_be_removed(auditor, queued, export_root: Path) -> None:
    jammed, plain = ask(auditor), ask(auditor)
    export_path(jammed).mkdir(parents=True)  # a directory where its file is: unlink refuses
    (export_path(jammed) / "inside").write_text("x")
    part = export_path(plain).with_name(export_path(plain).name + ".part")
    part.write_text("partial")
    _stuck(jammed)
    _stuck(plain)
    assert export_sweep(actor=Actor(label="test")) == 2
    assert set(ExportJob.objects.values_list("state", flat=True)) == {ExportJob.State.FAILED}
    assert (
        ExportJob.objects.get(pk=jammed.pk).error
        == "Экспорт прерван (выполнявший его процесс остановился); запросите его снова."
    )
    assert not part.exists()


def test_one_job_the_sweep_cannot_handle_does_not_stop_the_others(
    auditor, queued, monkeypatch, caplog, export_root: Path
) -> None:
    jobs = [ask(auditor) for _ in range(3)]
    for job in jobs:
        _stuck(job)
    from records.services import audit_record as real

    def audit_record(**kwargs: Any) -> Any:
        if kwargs["obj"].pk == jobs[0].pk:
            raise RuntimeError("the audit chain is busy")
        return real(**kwargs)

    monkeypatch.setattr(export_jobs, "audit_record", audit_record)
    assert export_sweep(actor=Actor(label="test")) == 2
    states = dict(ExportJob.objects.values_list("pk", "state"))
    assert states == {
        jobs[0].pk: ExportJob.State.RUNNING,  # rolled back, with its audit event: swept next time
        jobs[1].pk: ExportJob.State.FAILED,
        jobs[2].pk: ExportJob.State.FAILED,
    }
    assert any(f"export {jobs[0].pk}: not swept" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(export_jobs, "audit_record", real)
    assert export_sweep(actor=Actor(label="test")) == 1


def test_a_job_failed_meanwhile_is_not_marked_done(auditor, ledger, queued, monkeypatch, export_root: Path) -> None:
    """The sweeper gave the job up while it was writing: the run neither marks it done nor keeps
    its file, nor logs an export."""
    real = export_jobs.sha256_of

    def sha256_of(path: Path) -> tuple[str, int]:
        ExportJob.objects.filter(state=ExportJob.State.RUNNING).update(state=ExportJob.State.FAILED)
        return real(path)

    monkeypatch.setattr(export_jobs, "sha256_of", sha256_of)
    job = run(ask(auditor))
    assert job.state == ExportJob.State.FAILED
    assert [p for p in export_root.rglob("*") if p.is_file()] == []
    assert not AccessLog.objects.filter(view=export_jobs.EXPORT_VIEW).exists()


# --- The permission, checked again when the job runs --------------------------------------------


@pytest.mark.parametrize("loss", ["inactive", "role taken away", "kind's permission taken away"])
def test_a_requester_who_lost_the_permission_gets_no_file(
    auditor, ledger, queued, export_root: Path, loss: str
) -> None:
    from django.contrib.auth.models import Group, User

    from standards.services import role_assign

    job = ask(auditor)
    if loss == "inactive":
        User.objects.filter(pk=auditor.pk).update(is_active=False)
    elif loss == "role taken away":
        root = User.objects.filter(is_superuser=True).first()
        assert root is not None
        role_assign(user_id=auditor.pk, role_key="auditor", actor=root, remove=True)
    else:
        from records.exports import get_kind

        kind = get_kind("ledger")
        assert kind is not None
        app_label, codename = kind.permission.split(".")
        for group in Group.objects.filter(user=auditor):
            group.permissions.remove(*group.permissions.filter(content_type__app_label=app_label, codename=codename))
    job = run(job)
    assert (job.state, job.error) == (
        ExportJob.State.FAILED,
        "Запросивший больше не вправе выгружать эти данные (учетная запись отключена или право отозвано);"
        " файл не записан.",
    )
    assert [p for p in export_root.rglob("*") if p.is_file()] == []
    assert not ExportedPerson.objects.filter(job=job).exists()
    assert not AccessLog.objects.filter(view=export_jobs.EXPORT_VIEW).exists()


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


# --- What the mutation run of records/export_jobs.py found untested -------------------------------


def test_a_job_without_a_file_name_is_not_run(auditor, ledger, queued, export_root: Path, caplog) -> None:
    """An empty stored name would be EXPORT_ROOT itself: refused by name, said so in the log (a
    finished job always has its name: a constraint of the table)."""
    job = ask(auditor)
    ExportJob.objects.filter(pk=job.pk).update(file_name="")
    job.refresh_from_db()
    with pytest.raises(UnsafeExportPath) as refused:
        export_path(job)
    assert refused.value.detail == f"export {job.pk}: file name '' refused (no file name)"
    with caplog.at_level("ERROR"):
        failed = run(job)
    assert (failed.state, failed.error) == (
        ExportJob.State.FAILED,
        "Имя файла экспорта недопустимо; подробности — у администратора.",
    )
    assert f"export {job.pk} failed: export {job.pk}: file name '' refused (no file name)" in caplog.messages
    assert [p for p in export_root.rglob("*") if p.is_file()] == []


def test_a_kind_gone_when_the_job_runs_fails_it_and_writes_nothing(
    auditor, ledger, queued, export_root: Path, caplog
) -> None:
    job = ask(auditor)
    ExportJob.objects.filter(pk=job.pk).update(kind="no_such_kind")
    with caplog.at_level("ERROR"):
        failed = run(job)
    assert (failed.state, failed.error) == (
        ExportJob.State.FAILED,
        "Такого вида экспорта больше нет; файл не записан.",
    )
    assert any(f"export {job.pk}: unknown export kind 'no_such_kind'" in message for message in caplog.messages)
    assert [p for p in export_root.rglob("*") if p.is_file()] == []


def test_a_name_with_a_nul_is_refused_by_name() -> None:
    """PostgreSQL keeps no NUL in text, but a job's name is checked before any path is made of it."""
    job = ExportJob(pk=7, file_name="2023/a\x00.csv")
    with pytest.raises(UnsafeExportPath) as refused:
        export_path(job)
    assert refused.value.detail == "export 7: file name '2023/a\\x00.csv' refused (a NUL character)"


def test_the_log_says_who_lost_the_permission(auditor, ledger, queued, caplog) -> None:
    from django.contrib.auth.models import User

    job = ask(auditor)
    User.objects.filter(pk=auditor.pk).update(is_active=False)
    with caplog.at_level("ERROR"):
        run(job)
    detail = f"export {job.pk}: user {auditor.pk} (active: False) may not export ledger"
    assert f"export {job.pk} failed: {detail}" in caplog.messages


def test_a_link_out_of_the_root_is_logged_with_where_it_leads(victim: Path, export_root: Path) -> None:
    link = export_root / "2023" / "link.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(victim)
    with pytest.raises(UnsafeExportPath) as refused:
        export_path(ExportJob(pk=8, file_name="2023/link.csv"))
    assert refused.value.detail == (
        f"export 8: file name '2023/link.csv' refused (resolves to {str(victim.resolve())!r},"
        f" outside EXPORT_ROOT {str(export_root.resolve())!r})"
    )


@pytest.mark.parametrize(
    ("file_name", "why"),
    [("/etc/hostname", "an absolute path"), ("2023/../../victim.csv", "'..' in the name")],
)
def test_each_refused_name_is_logged_with_why(export_root: Path, file_name: str, why: str) -> None:
    with pytest.raises(UnsafeExportPath) as refused:
        export_path(ExportJob(pk=9, file_name=file_name))
    assert refused.value.detail == f"export 9: file name {file_name!r} refused ({why})"


def test_an_auditors_jobs_newest_first(auditor, queued) -> None:
    """By when they were asked for, then by number (two in the same instant)."""
    from records.export_jobs import jobs_of

    first, second, third = ask(auditor), ask(auditor), ask(auditor)
    moment = timezone.now()
    ExportJob.objects.filter(pk__in=[second.pk, third.pk]).update(created_at=moment)
    ExportJob.objects.filter(pk=first.pk).update(created_at=moment + timedelta(seconds=1))
    assert list(jobs_of(auditor).values_list("pk", flat=True)) == [first.pk, third.pk, second.pk]


def test_a_name_that_cannot_be_resolved_is_refused(export_root: Path) -> None:
    """Two links that point at each other: the name never reaches a file."""
    export_root.mkdir(parents=True)
    (export_root / "a.csv").symlink_to(export_root / "b.csv")
    (export_root / "b.csv").symlink_to(export_root / "a.csv")
    with pytest.raises(UnsafeExportPath) as refused:
        export_path(ExportJob(pk=10, file_name="a.csv"))
    assert refused.value.detail.startswith("export 10: file name 'a.csv' refused (not resolved: ")
