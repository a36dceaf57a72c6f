"""Process start-up shared by manage.py, WSGI and Celery.

Reads the checkout's ``.env`` file (written by the quick start) without overriding
variables already set in the environment, picks the settings module, and, when the
env file names an embedded PostgreSQL data folder and no ``DATABASE_URL`` is set,
starts (or attaches to) that server so every ``manage.py`` call works after the
quick start. Real deployments set ``DATABASE_URL`` and never touch the embedded server.

The settings module is always chosen explicitly: ``DJANGO_SETTINGS_MODULE`` in the
environment (Dockerfile, docker-compose.yml, the test run) or in ``.env`` (the quick start
writes ``config.settings.dev`` there). When neither names one, every entry point falls
back to the production settings, which refuse to start without their secrets: a forgotten
variable fails closed, never into DEBUG with the development key. There is one fallback
for all entry points because whichever imports the ``config`` package first (it loads
``config.celery``, which bootstraps) decides it for the whole process.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = BASE_DIR / ".env"


def read_env_file(path: Path | None = None) -> None:
    """Load KEY=VALUE lines into ``os.environ`` unless the key is already set.

    ``DJANGO_ENV_FILE`` names another file; set to an empty string, no file is read.
    """
    if path is None:
        name = os.environ.get("DJANGO_ENV_FILE", str(ENV_FILE))
        if not name:
            return
        path = Path(name)
    if not path.exists():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        os.environ.setdefault(key.strip(), value)


PRODUCTION_SETTINGS = "config.settings.production"


def bootstrap() -> None:
    """Prepare the process's environment before Django loads its settings (idempotent)."""
    read_env_file()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", PRODUCTION_SETTINGS)
    pgdata = os.environ.get("EMBEDDED_PGDATA")
    if pgdata and not os.environ.get("DATABASE_URL"):
        from config.embedded import ensure_embedded_database

        os.environ["DATABASE_URL"] = ensure_embedded_database(
            BASE_DIR / pgdata, database=os.environ.get("EMBEDDED_PGDATABASE", "gfss")
        )
