"""The Celery application. Tasks live in each app's ``tasks.py`` and are thin and id-based.

``config/__init__.py`` imports this module, so importing the ``config`` package bootstraps the
process here: the settings ``DJANGO_SETTINGS_MODULE`` names, production when nothing does.
"""

from __future__ import annotations

import threading
import time

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready

from config.bootstrap import bootstrap

bootstrap()

app = Celery("gfss")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fix-up closes every database connection before and after each task unless
# this is set, so each task paid for a new PostgreSQL backend with cold catalog caches (about
# 20 ms, more than processing a 100-line order). With it set, the fix-up leaves connections
# alone and the handler below applies Django's own rule (CONN_MAX_AGE and health checks).
app.conf.CELERY_DB_REUSE_MAX = 1_000_000


@task_prerun.connect
@task_postrun.connect
def _recycle_connections(sender: object = None, **kwargs: object) -> None:
    """Close connections that are broken or older than CONN_MAX_AGE, as Django does per request."""
    request = getattr(sender, "request", None)
    if getattr(request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


HEARTBEAT_SECONDS = 5


@worker_ready.connect
def _start_heartbeat(sender: object = None, **kwargs: object) -> None:
    """Record this worker's sign of life in the database every few seconds (see WorkerHeartbeat)."""
    hostname = str(getattr(sender, "hostname", "worker"))

    def beat() -> None:
        from django.db import close_old_connections
        from django.utils import timezone

        from records.models import WorkerHeartbeat

        while True:
            try:
                close_old_connections()
                WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})
            except Exception:  # noqa: BLE001, S110 - a missed beat only delays ingest's choice
                pass
            time.sleep(HEARTBEAT_SECONDS)

    threading.Thread(target=beat, name="db-heartbeat", daemon=True).start()
