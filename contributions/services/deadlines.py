"""The one-working-day clock of open orders (Rules, paragraph 6; conventions: "Within one
working day"): orders due today and late orders are flagged for the heads."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from contributions.models import PaymentOrder
from contributions.problems import Problem
from contributions.selectors import deadline_q
from records.services import Actor, audit_record, with_history_context
from records.working_days import CalendarNotLoaded, deadline_for


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


def receipt_date_problem(received: date) -> str | None:
    """Why a receipt date given at a door cannot be taken (in the active language), or None.

    The receipt date is the bank-statement date the money arrived (conventions, "Within one
    working day"): never in the future, and a day of a year the working-day calendar holds, or
    the order would have no deadline."""
    if received > timezone.localdate():
        return _("The receipt date cannot be in the future.")
    try:
        deadline_for(received)
    except CalendarNotLoaded as exc:
        return _("The working-day calendar has no data for %(year)s, so the order would have no deadline.") % {
            "year": exc.year
        }
    return None


def deadline_of(received: date) -> tuple[datetime | None, list[Problem]]:
    """The one-working-day deadline of an order received on ``received``, or the problem that
    the calendar cannot say (the order then needs review)."""
    try:
        return deadline_for(received), []
    except CalendarNotLoaded as exc:
        return None, [
            Problem(
                0,
                gettext_noop("the working-day calendar has no data for %(year)s: the deadline could not be set"),
                year=exc.year,
            )
        ]
