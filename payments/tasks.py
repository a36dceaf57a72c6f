"""Thin, idempotent Celery tasks of the payments app."""

from __future__ import annotations

from celery import shared_task

from payments.services import propose_recalculations, propose_terminations


@shared_task(name="payments.propose")
def propose(participant_ids: list[int] | None = None) -> dict[str, int]:
    """Both proposal scans (idempotent: what was proposed is not proposed again)."""
    return {
        "recalculations": propose_recalculations(participant_ids=participant_ids),
        "terminations": propose_terminations(participant_ids=participant_ids),
    }
