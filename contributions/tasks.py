"""Celery tasks of the contributions app: thin, id-based, idempotent (style P6)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from contributions.services.deadlines import flag_deadlines
from contributions.services.intake import sweep_files
from contributions.services.posting import order_count_failed_attempt, process_order
from contributions.services.queueing import ORDERS_QUEUE, PROCESS_ORDER_TASK, sweep_orders
from records.services import Actor


@shared_task(
    name=PROCESS_ORDER_TASK,
    queue=ORDERS_QUEUE,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def process_order_task(order_id: int) -> str:
    """Process one payment order. A redelivered or repeated task finds the order final (or
    locked by another worker) and changes nothing."""
    actor = Actor(label=f"task:{PROCESS_ORDER_TASK}")
    try:
        status = process_order(order_id=order_id, actor=actor)
    except Exception:
        order_count_failed_attempt(order_id=order_id, actor=actor)  # the attempt itself was rolled back
        raise
    return status or "skipped"


@shared_task(name="contributions.sweep_orders", acks_late=True, max_retries=0)
def sweep_orders_task() -> dict[str, int]:
    """Queue orders never queued (broker down at intake) or stuck in processing, flag open
    orders due today and late ones, then split stored files left unsplit (last: a file that
    keeps failing must not hold up the rest)."""
    actor = Actor(label="task:contributions.sweep_orders")
    queued = sweep_orders(actor=actor)
    flags = flag_deadlines(actor=actor)
    return {"queued": queued, **flags, "files_split": sweep_files(actor=actor)}
