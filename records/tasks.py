"""Celery tasks of the records app: thin wrappers around services, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from records.audit_chain import verify
from records.export_jobs import export_run, export_sweep
from records.registry import registry_sweep_loads
from records.services import Actor, calendar_refresh_from_package


@shared_task(name="records.refresh_calendar", acks_late=True, max_retries=5)
def refresh_calendar_task(years: list[int] | None = None) -> dict[str, int]:
    """Refresh this year's and next year's calendar from the package (scheduled yearly by beat).

    Idempotent: a second run finds nothing to change; administrator-edited rows are kept.
    """
    if not years:
        this_year = timezone.localdate().year
        years = [this_year, this_year + 1]
    result = calendar_refresh_from_package(years=years, actor=Actor(label="task:records.refresh_calendar"))
    return {"created": result.created, "updated": result.updated, "deleted": result.deleted}


@shared_task(name="records.sweep_registry_loads", acks_late=True, max_retries=0)
def sweep_registry_loads_task() -> int:
    """Apply registry snapshots stored but never applied (scheduled every five minutes)."""
    return registry_sweep_loads(actor=Actor(label="task:records.sweep_registry_loads"))


@shared_task(name="records.verify_audit_log", acks_late=True, max_retries=0)
def verify_audit_log_task() -> list[dict[str, Any]]:
    """Nightly: both chains checked, their heads logged (``records.audit_chain.verify``)."""
    return [report.as_dict() for report in verify()]


@shared_task(name="records.run_export", acks_late=True, max_retries=0)
def run_export_task(job_id: int) -> str | None:
    """Run an export job (``records.export_jobs.export_run``). Idempotent: a job that is not
    queued (running, done or failed) is left alone."""
    job = export_run(job_id=job_id)
    return None if job is None else job.state


@shared_task(name="records.sweep_exports", acks_late=True, max_retries=0)
def sweep_exports_task() -> int:
    """Mark failed the export jobs a killed worker left running (scheduled hourly)."""
    return export_sweep(actor=Actor(label="task:records.sweep_exports"))
