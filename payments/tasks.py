"""Thin, idempotent Celery tasks of the payments app."""

from __future__ import annotations

from celery import shared_task

from payments.services import propose_recalculations, propose_terminations


@shared_task(name="payments.propose")
def propose(participant_ids: list[int] | None = None) -> dict[str, int]:
    """Both proposal scans and the recoveries of payments after a death the registry reports
    (idempotent: what was proposed or recorded is not again)."""
    from payments.services.runs import recover_after_death

    return {
        "recalculations": propose_recalculations(participant_ids=participant_ids),
        "terminations": propose_terminations(participant_ids=participant_ids),
        "recoveries": recover_after_death(participant_ids=participant_ids),
    }


@shared_task(name="payments.build_run")
def build_run_task(run_id: int) -> str:
    """Build a run being built (idempotent: a built run is left alone; a run another worker is
    building is left to it)."""
    from payments.services.runs import RunBusy, build_run
    from records.services import Actor

    try:
        return str(build_run(run_id=run_id, actor=Actor(label="celery payments.build_run")).state)
    except RunBusy:
        return "busy"


@shared_task(name="payments.start_runs")
def start_runs() -> dict[str, int]:
    """Beat: on the configured day of the month (``PAYMENT_RUN_DAY``) or after it, start the
    month's run if there is none; queue every run left "being built" (a worker killed during
    its build), which the advisory lock makes safe to queue twice."""
    from payments.services.runs import runs_to_build, start_scheduled_run

    started = start_scheduled_run()
    queued = 0
    for run_id in runs_to_build():
        build_run_task.delay(run_id)
        queued += 1
    return {"started": int(started), "queued": queued}


@shared_task(name="payments.monthly_report")
def monthly_report() -> bool:
    """Beat: from the configured day (``MONTHLY_REPORT_DAY``), the previous month's report if
    it has none (idempotent: a month with a version is left alone; the lock numbers versions)."""
    from payments.services.reports import generate_scheduled_report

    return generate_scheduled_report()


@shared_task(name="payments.refresh_dashboard")
def refresh_dashboard() -> str:
    """Beat: compute the current month's dashboard again before the kept one expires, so that
    the heads never wait for it (idempotent: it only replaces figures by newer ones)."""
    from django.utils import timezone

    from payments.selectors.dashboard import refresh_dashboard as refresh

    month = timezone.localdate().replace(day=1)
    refresh(month)
    return f"{month:%Y-%m}"
