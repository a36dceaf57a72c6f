"""The one-working-day clock of open orders (Rules, paragraph 6; conventions: "Within one
working day"): orders due today and late orders are flagged for the heads."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contributions.models import PaymentOrder
from contributions.selectors import deadline_q
from records.services import Actor, audit_record, with_history_context


@with_history_context
def flag_deadlines(*, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """Flag open orders whose one-working-day deadline is today, or has passed: the heads'
    deadline page and the order list show the flags, and each newly late order leaves an audit
    event."""
    now = now or timezone.now()
    due = PaymentOrder.objects.filter(deadline_q("due_today", now)).exclude(deadline_flag="due_today")
    due_count = due.update(deadline_flag="due_today", flagged_at=now)
    newly_late = list(
        PaymentOrder.objects.filter(deadline_q("late", now)).exclude(deadline_flag="late").values_list("pk", flat=True)
    )
    if newly_late:
        with transaction.atomic():
            PaymentOrder.objects.filter(pk__in=newly_late).update(deadline_flag="late", flagged_at=now)
            audit_record(
                actor=actor,
                action="orders.late",
                data={"orders": newly_late[:1000], "count": len(newly_late)},
            )
    return {"due_today": due_count, "late": len(newly_late)}
