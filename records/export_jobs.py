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

Before it writes anything, the run checks again that the requester may export the kind (an
account made inactive or a role taken away since the request: the job fails, no file).

Any error marks the job failed, and leaves no file and no person behind. What the job shows
(``error``) never quotes the exception (its text can name the server's paths): the class and a
sentence in the requester's language; the whole error is logged.

The files live under ``EXPORT_ROOT`` and nowhere else: ``export_path`` refuses a stored name that
would resolve outside it (``UnsafeExportPath``), wherever a path is built. A download hashes the
file again and refuses one that is not the job's (``ExportFileChanged``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from records.exports import ExportKind, get_kind, persons_insert, stream, write_file
from records.models import AccessLog, ExportedPerson, ExportJob
from records.services import Actor, audit_record

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2_000  # rows fetched from the server-side cursor at a time
EXPORT_VIEW = "export_job"  # the access log's name for a finished export
DOWNLOAD_VIEW = "export_download"  # … and for each download of its file


HASH_BLOCK = 1 << 16  # bytes read at a time to hash a file (memory stays constant)


class ExportRefused(ValidationError):
    """The filters (or the kind or format) of an export request are not valid, or the user has
    too many jobs waiting: ``error_dict`` names the fields (``__all__`` for the request)."""


class ExportFailed(Exception):
    """A job that cannot be done for a reason of ours: ``public`` is what the job shows (no
    paths), ``detail`` what the log says."""

    def __init__(self, public: str | Promise, detail: str) -> None:
        super().__init__(detail)
        self.public = public
        self.detail = detail


class UnsafeExportPath(ExportFailed):
    """A job's stored file name that is empty, absolute, climbs with ``..`` or resolves outside
    ``EXPORT_ROOT`` (a row written by hand, or a symbolic link): no file is read, written or
    removed by that name."""

    def __init__(self, job: ExportJob, why: str) -> None:
        super().__init__(
            gettext_lazy("The export's file name is not valid; the administrator has the details."),
            f"export {job.pk}: file name {job.file_name!r} refused ({why})",
        )


class ExportFileChanged(Exception):
    """The file on disk is not the one the job wrote (its SHA-256 or size differs)."""


def export_path(job: ExportJob) -> Path:
    """The job's file: ``EXPORT_ROOT / file_name`` resolved, which must stay inside
    ``EXPORT_ROOT`` (``UnsafeExportPath`` otherwise)."""
    name = job.file_name
    if not name:
        raise UnsafeExportPath(job, "no file name")
    if "\x00" in name:
        raise UnsafeExportPath(job, "a NUL character")
    relative = Path(name)
    if relative.is_absolute():
        raise UnsafeExportPath(job, "an absolute path")
    if ".." in relative.parts:
        raise UnsafeExportPath(job, "'..' in the name")
    try:
        root = Path(settings.EXPORT_ROOT).resolve()
        path = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symbolic-link loop, a name the OS refuses
        raise UnsafeExportPath(job, f"not resolved: {exc}") from exc
    if path == root or not path.is_relative_to(root):
        raise UnsafeExportPath(job, f"resolves to {str(path)!r}, outside EXPORT_ROOT {str(root)!r}")
    return path


def _part_of(final: Path) -> Path:
    """The temporary file written next to the final one."""
    return final.with_name(final.name + ".part")


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
        _refuse_too_many(user)
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


def _refuse_too_many(user: Any) -> None:
    """``ExportRefused`` while ``user`` has ``EXPORT_MAX_ACTIVE_PER_USER`` jobs queued or running.
    Inside the transaction that creates the job, behind a lock of the user's own (an advisory
    transaction lock): two requests at once are counted one after the other, never both under
    the limit."""
    limit = settings.EXPORT_MAX_ACTIVE_PER_USER
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('records.export_request'), %s)", [user.pk])
    active = ExportJob.objects.filter(
        requested_by=user, state__in=[ExportJob.State.QUEUED, ExportJob.State.RUNNING]
    ).count()
    if active >= limit:
        message = ngettext(
            "You already have %(count)d export waiting or running (the most allowed at a time);"
            " ask for another when it is done.",
            "You already have %(count)d exports waiting or running (the most allowed at a time);"
            " ask for another when one of them is done.",
            active,
        ) % {"count": active}
        raise ExportRefused({NON_FIELD_ERRORS: [ValidationError(message, code="too_many")]})


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
    progress = ExportProgress(job.pk, settings.EXPORT_PROGRESS_EVERY)
    try:
        kind = _kind_the_requester_may_export(job)
        final = export_path(job)
        temp = _part_of(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        with translation.override(job.language):
            filters = _filters_of(kind, job)
            rows, persons = _write_in_one_snapshot(kind, job, filters, temp, progress)
        digest, size = sha256_of(temp)
        os.replace(temp, final)
        with transaction.atomic():
            done = ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING).update(
                state=ExportJob.State.DONE,
                rows_total=rows,
                rows_written=rows,
                sha256=digest,
                size=size,
                finished_at=timezone.now(),
            )
            if not done:  # the sweeper marked it failed meanwhile: its file goes too
                raise _interrupted(job)
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
    except ExportFailed as exc:
        logger.error("export %s failed: %s", job.pk, exc.detail)
        _fail(job, exc)
    except Exception as exc:
        logger.exception("export %s failed", job.pk)
        _fail(job, exc)
    finally:
        progress.close()
    job.refresh_from_db()
    return job


def _kind_the_requester_may_export(job: ExportJob) -> ExportKind:
    """The job's kind, if the requester (an active account) may still export it: the permission
    is checked when the job runs too, not only when it was asked for."""
    kind = get_kind(job.kind)
    if kind is None:
        raise ExportFailed(
            gettext_lazy("This kind of export no longer exists; no file was written."),
            f"export {job.pk}: unknown export kind {job.kind!r}",
        )
    user = job.requested_by
    if not user.is_active or not kind.may_export(user):
        raise ExportFailed(
            gettext_lazy(
                "The requester may no longer export this (the account is inactive or the permission"
                " was withdrawn); no file was written."
            ),
            f"export {job.pk}: user {user.pk} (active: {user.is_active}) may not export {kind.name}",
        )
    return kind


def _interrupted(job: ExportJob) -> ExportFailed:
    return ExportFailed(
        gettext_lazy("The export was interrupted (its worker stopped); ask for it again."),
        f"export {job.pk}: interrupted (running longer than EXPORT_STUCK_AFTER_SECONDS, or failed meanwhile)",
    )


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


def _shown_error(job: ExportJob, exc: Exception) -> str:
    """What a failed job shows its requester, in the requester's language: never the exception's
    text (it may quote the server's paths), which is logged."""
    with translation.override(job.language):
        if isinstance(exc, ExportFailed):
            return str(exc.public)
        if isinstance(exc, OSError):
            sentence = _("The file could not be written; the administrator has the details.")
        else:
            sentence = _("The export failed; the administrator has the details.")
        return f"{type(exc).__name__}: {sentence}"


def _mark_failed(job: ExportJob, exc: Exception) -> int:
    """The running job marked failed (1), or nothing (0) when it is not running any more."""
    return ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING).update(
        state=ExportJob.State.FAILED, error=_shown_error(job, exc)[:2000], finished_at=timezone.now()
    )


def _clean_up(job: ExportJob) -> None:
    """The job's files (partial and final) and its people removed. A file that cannot be
    removed (a file system that refuses) is logged and left: the job is failed all the same; a
    file name outside ``EXPORT_ROOT`` is not touched at all."""
    try:
        final = export_path(job)
    except UnsafeExportPath as refused:
        logger.error("%s: no file removed", refused.detail)
        paths: list[Path] = []
    else:
        paths = [_part_of(final), final]
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.exception("export %s: %s not removed", job.pk, path)
    ExportedPerson.objects.filter(job_id=job.pk).delete()


def _fail(job: ExportJob, exc: Exception) -> None:
    """A run that failed: the job marked failed first (whatever the clean-up meets), then its
    files and people removed."""
    _mark_failed(job, exc)
    _clean_up(job)


def sha256_of(path: Path) -> tuple[str, int]:
    with path.open("rb") as data:
        return _digest_of(data)


def _digest_of(data: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of an open file, read block by block from where it is."""
    digest = hashlib.sha256()
    size = 0
    while block := data.read(HASH_BLOCK):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def open_verified(job: ExportJob) -> BinaryIO:
    """The finished job's file, open at its start, once its SHA-256 and size (read in blocks:
    constant memory) are found to be the job's. The same open file is hashed and served: a file
    replaced after the check is not the one served. Raises ``UnsafeExportPath`` (a name outside
    ``EXPORT_ROOT``), ``FileNotFoundError`` (no such file) or ``ExportFileChanged`` (logged)."""
    path = export_path(job)
    if not path.is_file():
        raise FileNotFoundError(path)
    data = path.open("rb")
    try:
        digest, size = _digest_of(data)
        if (digest, size) != (job.sha256, job.size):
            logger.error(
                "export %s: the file %s is not the job's (SHA-256 %s, %s bytes; the job's: %s, %s bytes); not served",
                job.pk,
                path,
                digest,
                size,
                job.sha256,
                job.size,
            )
            raise ExportFileChanged(job.pk)
        data.seek(0)
    except BaseException:
        data.close()
        raise
    return data


QUEUED_AGAIN_AFTER = timedelta(minutes=10)


def export_sweep(*, actor: Actor) -> int:
    """Jobs left running by a worker that was killed (longer than ``EXPORT_STUCK_AFTER_SECONDS``)
    marked failed, their partial files removed; returns how many. Jobs still queued after
    ``QUEUED_AGAIN_AFTER`` (the broker lost the task) are queued again: the task claims a job
    once, so a second delivery does nothing. Each job on its own: one that fails (logged) does
    not keep the others from being swept."""
    now = timezone.now()
    for job_id in ExportJob.objects.filter(
        state=ExportJob.State.QUEUED, created_at__lt=now - QUEUED_AGAIN_AFTER
    ).values_list("pk", flat=True):
        try:
            _enqueue(job_id)
        except Exception:
            logger.exception("export %s: not queued again", job_id)
    since = now - timedelta(seconds=settings.EXPORT_STUCK_AFTER_SECONDS)
    swept = 0
    for job in ExportJob.objects.filter(state=ExportJob.State.RUNNING, started_at__lt=since).order_by("pk"):
        try:
            swept += _sweep_one(job, since=since, actor=actor)
        except Exception:
            logger.exception("export %s: not swept", job.pk)
    return swept


def _sweep_one(job: ExportJob, *, since: datetime, actor: Actor) -> int:
    """One stuck job failed (and audited) if it is still running since before ``since``; its
    files removed only then (a job that finished meanwhile keeps its file)."""
    interrupted = _interrupted(job)
    with transaction.atomic():
        marked = ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING, started_at__lt=since).update(
            state=ExportJob.State.FAILED, error=_shown_error(job, interrupted)[:2000], finished_at=timezone.now()
        )
        if not marked:
            return 0
        audit_record(actor=actor, action="export.interrupted", obj=job)
    logger.error("%s", interrupted.detail)
    _clean_up(job)
    return 1


def jobs_of(user: Any) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(requested_by=user).order_by("-created_at", "-id")
