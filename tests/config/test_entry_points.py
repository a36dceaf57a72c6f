"""Entry points choose their settings explicitly; a missing choice fails closed (production).

Every process (gunicorn's ``config.wsgi``, ``manage.py``, ``celery -A config``) imports the
``config`` package first, which bootstraps the process. Without ``DJANGO_SETTINGS_MODULE`` and
without a ``.env`` naming one, none of them may come up with DEBUG on and the development key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config.test_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]

REPORT = (
    "from django.conf import settings; "
    "print(settings.SETTINGS_MODULE, settings.DEBUG, settings.SECRET_KEY.startswith('dev-only'))"
)
# What each entry point does first: gunicorn imports config.wsgi; Celery's "-A config" imports
# the package (and config.celery); manage.py imports config.bootstrap (the package again).
ENTRY_POINTS = {
    "wsgi": "import config.wsgi; " + REPORT,
    "celery": "import config; from config.celery import app; " + REPORT,
    "manage": "import runpy, sys; sys.argv = ['manage.py', 'shell', '-c', " + repr(REPORT) + "]; "
    "runpy.run_path('manage.py', run_name='__main__')",
}


def run_without_settings(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -c code`` with no settings named anywhere: no DJANGO_* variables, no ``.env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "EMBEDDED_"))}
    clean["EMBEDDED_PGDATA"] = ""  # never start the quick-start server from a test
    clean["DJANGO_ENV_FILE"] = ""  # no .env: as on a server started from a clean checkout
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_without_settings_an_entry_point_refuses_to_start_without_production_secrets(entry_point: str) -> None:
    result = run_without_settings(ENTRY_POINTS[entry_point])
    assert result.returncode != 0, result.stdout
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "True" not in result.stdout


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_without_settings_an_entry_point_runs_production(entry_point: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = run_without_settings(ENTRY_POINTS[entry_point], **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["config.settings.production", "False", "False"]


def test_the_settings_named_in_the_env_file_are_used(tmp_path: Path) -> None:
    """The quick start's way: ``.env`` names the development settings explicitly."""
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_SETTINGS_MODULE=config.settings.dev\n", encoding="utf-8")
    result = run_without_settings(ENTRY_POINTS["wsgi"], DJANGO_ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["config.settings.dev", "True", "True"]


def test_the_quick_start_writes_its_settings_into_the_env_file(tmp_path: Path, monkeypatch) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import quickstart
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    monkeypatch.setattr(quickstart, "ENV_FILE", tmp_path / ".env")
    quickstart.write_env_file()
    assert quickstart.env_file_settings() == "config.settings.dev"
