"""Export jobs (issue 19): asked for on the exports page, run by ``records.tasks.run_export``.

``export_request`` checks the permission (here too, not only in the view), cleans the filters,
stores the job and its audit event, and queues the task when the transaction commits.

``export_run`` is what the task does, once per job (a conditional UPDATE claims it: a job done
is not done again, a second delivery of a running job does nothing):

1. one transaction, ``REPEATABLE READ READ ONLY``: the rows counted, then streamed through a
   server-side cursor in chunks into a temporary file next to the final one; progress written
   every ``EXPORT_PROGRESS_EVERY`` rows through a connection of its own (visible while the
   snapshot is open, as ``payments.services.runs.Progress`` does);
2. in the same snapshot (exported with ``pg_export_snapshot`` and imported by that other
   connection), the people in the file written by one ``INSERT … SELECT`` into
   ``ExportedPerson``;
3. the file's SHA-256 and size, the temporary file renamed, and in one transaction the job
   marked done and its access-log entry written (who, which kind and filters, the format, the
   rows, the checksum and the job: ``records.filters.AccessLogFilter`` finds it by a person).

Any error marks the job failed with the error, and leaves no file and no person behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from records.exports import ExportKind, get_kind, persons_insert, stream, write_file
from records.models import AccessLog, ExportedPerson, ExportJob
from records.services import Actor, audit_record

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2_000  # rows fetched from the server-side cursor at a time
EXPORT_VIEW = "export_job"  # the access log's name for a finished export
DOWNLOAD_VIEW = "export_download"  # … and for each download of its file


class ExportRefused(ValidationError):
    """The filters (or the kind or format) of an export request are not valid: ``error_dict``
    names the fields."""


def export_path(job: ExportJob) -> Path:
    return Path(settings.EXPORT_ROOT) / job.file_name


def _file_name(job: ExportJob) -> str:
    day = timezone.localdate(job.created_at)
    return f"{day:%Y/%m}/{job.pk}-{job.kind}-{day:%Y%m%d}.{job.file_format}"


def export_request(
    *,
    actor: Actor,
    kind: str,
    file_format: str,
    filters: Mapping[str, Any],
    language: str | None = None,
    ip_address: str | None = None,
) -> ExportJob:
    """Queue an export of ``kind`` with ``filters`` (raises ``ExportRefused`` naming what is
    wrong, ``PermissionDenied`` for a user who may not export it)."""
    found = get_kind(kind)
    user = actor.user
    if found is None:
        raise ExportRefused({"kind": [ValidationError(_("Choose what to export."), code="kind")]})
    if user is None or not found.may_export(user):
        raise PermissionDenied
    if file_format not in ExportJob.Format.values:
        raise ExportRefused({"file_format": [ValidationError(_("Choose CSV or XLSX."), code="format")]})
    form = found.clean_filters(filters)
    if not form.is_valid():
        raise ExportRefused(form.errors.as_data())
    language = (language or translation.get_language() or settings.LANGUAGE_CODE)[:8]
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=found.name,
            file_format=file_format,
            filters=form.as_json(),
            language=language,
            requested_by=user,
            ip_address=ip_address,
        )
        job.file_name = _file_name(job)
        job.save(update_fields=["file_name"])
        audit_record(
            actor=actor,
            action="export.request",
            obj=job,
            data={"kind": job.kind, "format": job.file_format, "filters": job.filters},
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from records.tasks import run_export_task

    run_export_task.delay(job_id)


class ExportProgress:
    """Writes the job's progress through a connection of its own (autocommit), visible while the
    export's snapshot is open; also imports that snapshot to record the people in the file."""

    def __init__(self, job_id: int, every: int) -> None:
        self.job_id = job_id
        self.every = max(1, every)
        self._connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, rows_written: int) -> None:
        if rows_written % self.every == 0:
            self.write(rows_written=rows_written)

    def write(self, **counts: int) -> None:
        sets = ", ".join(f"{name} = %s" for name in counts)
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE records_exportjob SET {sets} WHERE id = %s AND state = 'running'",
                    [*counts.values(), self.job_id],
                )
        except Exception:  # progress is a convenience: it never fails an export
            logger.warning("export %s: progress not written", self.job_id, exc_info=True)

    def record_persons(self, snapshot: str, job_id: int, persons: QuerySet[Any]) -> int:
        """One ``INSERT … SELECT`` of the distinct people, in the export's snapshot."""
        statement, params = persons_insert(job_id, persons)
        with self._connection.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            try:
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                cursor.execute(statement, params)
                inserted = int(cursor.rowcount)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
        return inserted

    def close(self) -> None:
        self._connection.close()


def export_run(*, job_id: int) -> ExportJob | None:
    """Run a queued job (see the module's docstring); None when it was not queued."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.QUEUED).update(
        state=ExportJob.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    final = export_path(job)
    temp = final.with_name(final.name + ".part")
    progress = ExportProgress(job.pk, settings.EXPORT_PROGRESS_EVERY)
    try:
        kind = get_kind(job.kind)
        if kind is None:
            raise ValueError(f"unknown export kind {job.kind!r}")
        final.parent.mkdir(parents=True, exist_ok=True)
        with translation.override(job.language):
            filters = _filters_of(kind, job)
            rows, persons = _write_in_one_snapshot(kind, job, filters, temp, progress)
        digest, size = sha256_of(temp)
        os.replace(temp, final)
        with transaction.atomic():
            ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING).update(
                state=ExportJob.State.DONE,
                rows_total=rows,
                rows_written=rows,
                sha256=digest,
                size=size,
                finished_at=timezone.now(),
            )
            AccessLog.objects.create(
                user=job.requested_by,
                kind=AccessLog.Kind.EXPORT,
                view=EXPORT_VIEW,
                query={
                    "export_job": job.pk,
                    "kind": job.kind,
                    "filters": job.filters,
                    "format": job.file_format,
                    "sha256": digest,
                    "persons": persons,
                },
                row_count=rows,
                ip_address=job.ip_address,
            )
    except Exception as exc:
        logger.exception("export %s failed", job.pk)
        _fail(job, exc, temp, final)
    finally:
        progress.close()
    job.refresh_from_db()
    return job


def _filters_of(kind: ExportKind, job: ExportJob) -> dict[str, Any]:
    form = kind.clean_filters(job.filters)
    if not form.is_valid():
        raise ValueError(f"stored filters refused: {form.errors.as_json()}")
    return form.cleaned_data


def _write_in_one_snapshot(
    kind: ExportKind, job: ExportJob, filters: dict[str, Any], temp: Path, progress: ExportProgress
) -> tuple[int, int]:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        queryset = kind.queryset(filters)
        progress.write(rows_total=queryset.count(), rows_written=0)
        rows = write_file(kind, job.file_format, temp, stream(queryset, CHUNK_ROWS), progress)
        persons = progress.record_persons(snapshot, job.pk, kind.persons_queryset(kind.rows(filters)))
    return rows, persons


def _fail(job: ExportJob, exc: Exception, temp: Path, final: Path) -> None:
    temp.unlink(missing_ok=True)
    final.unlink(missing_ok=True)
    ExportedPerson.objects.filter(job_id=job.pk).delete()
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
    )


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as data:
        while block := data.read(1 << 16):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


QUEUED_AGAIN_AFTER = timedelta(minutes=10)


def export_sweep(*, actor: Actor) -> int:
    """Jobs left running by a worker that was killed (longer than ``EXPORT_STUCK_AFTER_SECONDS``)
    marked failed, their partial files removed; returns how many. Jobs still queued after
    ``QUEUED_AGAIN_AFTER`` (the broker lost the task) are queued again: the task claims a job
    once, so a second delivery does nothing."""
    now = timezone.now()
    for job_id in ExportJob.objects.filter(
        state=ExportJob.State.QUEUED, created_at__lt=now - QUEUED_AGAIN_AFTER
    ).values_list("pk", flat=True):
        _enqueue(job_id)
    since = now - timedelta(seconds=settings.EXPORT_STUCK_AFTER_SECONDS)
    stuck = list(ExportJob.objects.filter(state=ExportJob.State.RUNNING, started_at__lt=since))
    for job in stuck:
        final = export_path(job)
        _fail(job, TimeoutError("the export was interrupted"), final.with_name(final.name + ".part"), final)
        with transaction.atomic():
            audit_record(actor=actor, action="export.interrupted", obj=job)
    return len(stuck)


def jobs_of(user: Any) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(requested_by=user).order_by("-created_at", "-id")
