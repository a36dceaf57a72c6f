from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from config.celery import app
from config.schedule import PERIODIC_TASKS

pytestmark = pytest.mark.django_db


def test_setup_periodic_tasks_is_idempotent_and_retires_removed_tasks() -> None:
    call_command("setup_periodic_tasks", stdout=StringIO())
    call_command("setup_periodic_tasks", stdout=StringIO())
    tasks = PeriodicTask.objects.filter(description__startswith="managed")
    assert tasks.count() == len(PERIODIC_TASKS)
    calendar = tasks.get(task="records.refresh_calendar")
    assert calendar.crontab is not None
    assert (calendar.crontab.month_of_year, str(calendar.crontab.timezone)) == ("12,1", "Asia/Almaty")
    assert json.loads(calendar.kwargs) == {}
    PeriodicTask.objects.filter(pk=calendar.pk).update(name="an old name")
    call_command("setup_periodic_tasks", stdout=StringIO())
    assert not PeriodicTask.objects.get(name="an old name").enabled


def test_every_scheduled_task_is_a_registered_task() -> None:
    app.loader.import_default_modules()
    for spec in PERIODIC_TASKS:
        assert spec.task in app.tasks, spec.task
