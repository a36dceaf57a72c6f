"""A real Celery worker process on Redis runs the records tasks against the test database."""

from __future__ import annotations

from datetime import date

import pytest

from records.models import AuditEvent, CalendarDay
from records.tasks import refresh_calendar_task
from tests.conftest import CeleryWorker, wait_until


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_worker_refreshes_the_calendar(celery_worker: CeleryWorker) -> None:
    assert not CalendarDay.objects.filter(date__year=2029).exists()
    refresh_calendar_task.delay([2029])
    wait_until(
        lambda: AuditEvent.objects.filter(action="calendar.refresh", data__years=[2029]).exists(),
        describe=celery_worker.output,
    )
    assert CalendarDay.objects.filter(date=date(2029, 1, 1), is_working=False).exists()
    event = AuditEvent.objects.get(action="calendar.refresh", data__years=[2029])
    assert event.actor_label == "task:records.refresh_calendar"
    # Delivered again, the task changes nothing.
    count = CalendarDay.objects.filter(date__year=2029).count()
    refresh_calendar_task.delay([2029])
    wait_until(lambda: AuditEvent.objects.filter(action="calendar.refresh", data__years=[2029]).count() == 2)
    assert CalendarDay.objects.filter(date__year=2029).count() == count
    assert AuditEvent.objects.filter(action="calendar.refresh").first().data["created"] == 0  # type: ignore[union-attr]
