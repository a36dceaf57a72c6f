"""A pytest plugin for mutation runs (docs/testing.md), loaded with ``-p tests.mutation_db``.

mutmut runs one pytest session per mutant. Creating and migrating the test database every time
takes longer than most mutants' tests; keeping it (``--reuse-db``) would let one session spoil
the next: a test that commits for real (``transaction=True``) leaves every table emptied after
it, the seeded KNP codes, calendar and catalogue included. So each session gets a database of
its own (named after its process, so that two mutants can run at once: ``--max-children 2``),
a fresh copy of a migrated template database (``CREATE DATABASE ... TEMPLATE`` copies files:
well under a second), which pytest-django keeps for the session (``--reuse-db``) and the plugin
drops at its end. The template is built once, and again when a migration changes.

Never load it in an ordinary run: it drops and recreates the test database at session start.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql


def _migrations_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.glob("*/migrations/*.py")):
        digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _build_template(admin: psycopg.Connection, template: str, root: Path, digest: str) -> None:
    """A database migrated by ``manage.py migrate`` with the unmutated code (``MUTANT_UNDER_TEST``
    empty: every mutated function runs its original), labelled with the migrations' digest."""
    _drop(admin, template)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{template}").geturl()
    env = {**os.environ, "DATABASE_URL": url, "MUTANT_UNDER_TEST": ""}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=root, env=env, check=True, timeout=600
    )
    admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(template), sql.Literal(digest)))


def _admin() -> psycopg.Connection:
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    return psycopg.connect(**params, autocommit=True)


def _names() -> tuple[str, str]:
    """(template, this session's database), from ``DATABASE_URL`` (the settings' ``NAME`` is
    the test database's after a first session in the same process)."""
    base = "test_" + urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    return f"{base}_template", f"{base}_{os.getpid()}"


def _drop(admin: psycopg.Connection, name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.db import connection

    template, name = _names()
    connection.settings_dict["TEST"]["NAME"] = name
    root = Path(session.config.rootpath)
    digest = _migrations_digest(root)
    with _admin() as admin:
        prefix = name.rpartition("_")[0] + "_"
        for (other,) in admin.execute("SELECT datname FROM pg_database").fetchall():
            pid = other.removeprefix(prefix)
            if other.startswith(prefix) and pid.isdigit() and not _alive(int(pid)):
                _drop(admin, other)  # left by a session that was killed (a mutant's timeout)
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        if row is None or row[0] != digest:
            _build_template(admin, template, root, digest)
        _drop(admin, name)
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))


def pytest_sessionfinish(session: pytest.Session) -> None:
    from django.db import connections

    connections.close_all()
    with _admin() as admin:
        _drop(admin, _names()[1])


SLOW = 1.0  # seconds: tests this slow are left out of a mutant's session


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """A mutant's tests fastest first (mutmut gives them in name order and stops at the first
    failure, so a killed mutant dies sooner), without the few slow sweeps (the hostile-URL sweep,
    the data-migration tests: 60 % of the time of a surviving mutant, and about code that no
    mutated function decides). Durations are mutmut's own (``mutmut-stats.json``)."""
    import json

    stats = Path(config.rootpath) / "mutmut-stats.json"
    if not stats.exists():
        return
    durations: dict[str, float] = json.loads(stats.read_text())["duration_by_test"]
    if len(items) < 2 or any(item.nodeid not in durations for item in items):
        return  # the clean run or the stats collection: every test, as given
    kept = sorted((item for item in items if durations[item.nodeid] <= SLOW), key=lambda item: durations[item.nodeid])
    left_out = [item for item in items if durations[item.nodeid] > SLOW]
    items[:] = kept or items
    if kept:
        config.hook.pytest_deselected(items=left_out)
