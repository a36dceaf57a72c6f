"""The Celery application. Tasks live in each app's ``tasks.py`` and are thin and id-based."""

from __future__ import annotations

import threading
import time

from celery import Celery
from celery.signals import worker_ready

from config.bootstrap import bootstrap

bootstrap(default_settings="config.settings.dev")

app = Celery("gfss")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
