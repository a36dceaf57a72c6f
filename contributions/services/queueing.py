"""Stage 2, queueing: open payment orders handed to the Celery workers, and the sweeper that
queues again whatever was never queued or got stuck (conventions: "Within one working day").

Tasks are sent by name, so this module never imports ``contributions.tasks`` (which imports the
services): no import circle.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from contributions.models import OrderStatus, PaymentOrder
from records.services import Actor, with_history_context

logger = logging.getLogger(__name__)

PROCESS_ORDER_TASK = "contributions.process_order"
ORDERS_QUEUE = "orders"


def enqueue_orders(order_ids: list[int]) -> int:
    """Queue orders for the workers; a broker that is down is logged, not raised: the orders stay
    ``received`` and ``sweep_orders`` queues them once the broker is back."""
    queued = []
    retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
    try:
        with current_app.producer_or_acquire() as producer:  # one for the whole batch
            for order_id in order_ids:
                current_app.send_task(
                    PROCESS_ORDER_TASK,
                    args=(order_id,),
                    queue=ORDERS_QUEUE,
                    producer=producer,
                    retry=True,
                    retry_policy=retry_policy,
                )
                queued.append(order_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: leave the rest for the sweeper
        left = len(order_ids) - len(queued)
        logger.warning("could not queue %s payment order(s) (%s); the sweeper will retry", left, exc)
    if queued:
        PaymentOrder.objects.filter(pk__in=queued).update(queued_at=timezone.now())
    return len(queued)


@with_history_context
def sweep_orders(
    *, actor: Actor, received_after: timedelta = timedelta(seconds=30), stuck_after: timedelta | None = None
) -> int:
    """Queue orders that were never queued (e.g. the broker was down at intake) or were queued
    long ago and are still open (the task was lost, or a worker died and its transaction rolled
    back); run by beat every minute. A task queued twice is harmless: the second finds the order
    final. Returns how many were queued."""
    now = timezone.now()
    if stuck_after is None:
        stuck_after = timedelta(seconds=settings.ORDER_STUCK_AFTER_SECONDS)
    never_queued = Q(queued_at__isnull=True, created_at__lt=now - received_after)
    stuck = Q(queued_at__lt=now - stuck_after)
    open_orders = PaymentOrder.objects.filter(never_queued | stuck, status=OrderStatus.RECEIVED)
    ids = list(open_orders.order_by("pk").values_list("pk", flat=True))
    return enqueue_orders(ids) if ids else 0
