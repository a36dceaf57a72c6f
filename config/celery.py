"""The Celery application. Tasks live in each app's ``tasks.py`` and are thin and id-based."""

from __future__ import annotations

from celery import Celery

from config.bootstrap import bootstrap

bootstrap(default_settings="config.settings.dev")

app = Celery("gfss")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
