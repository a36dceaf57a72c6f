"""``manage.py setup_periodic_tasks``: write config.schedule.PERIODIC_TASKS to the beat tables.

Idempotent: run it on every deploy. Tasks this command created earlier and no longer defines
are disabled, not deleted, so their history stays readable.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.schedule import PERIODIC_TASKS

MANAGED = "managed by setup_periodic_tasks"


class Command(BaseCommand):
    help = "Create or update the periodic tasks defined in config/schedule.py."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        names = []
        for spec in PERIODIC_TASKS:
            schedule, _ = CrontabSchedule.objects.get_or_create(
                minute=spec.crontab.get("minute", "*"),
                hour=spec.crontab.get("hour", "*"),
                day_of_week=spec.crontab.get("day_of_week", "*"),
                day_of_month=spec.crontab.get("day_of_month", "*"),
                month_of_year=spec.crontab.get("month_of_year", "*"),
                timezone=settings.TIME_ZONE,
            )
            PeriodicTask.objects.update_or_create(
                name=spec.name,
                defaults={
                    "task": spec.task,
                    "crontab": schedule,
                    "interval": None,
                    "kwargs": json.dumps(spec.kwargs),
                    "queue": spec.queue,
                    "enabled": True,
                    "description": MANAGED,
                },
            )
            names.append(spec.name)
        retired = PeriodicTask.objects.filter(description=MANAGED, enabled=True).exclude(name__in=names)
        count = retired.update(enabled=False)
        self.stdout.write(f"{len(names)} periodic tasks set up, {count} retired")
