"""The quick start's path: a manage.py call with only the env file's EMBEDDED_PGDATA starts the
embedded PostgreSQL server from the wheel, migrates, answers, and stops it again on exit."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_manage_py_runs_on_the_embedded_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "EMBEDDED_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        EMBEDDED_PGDATA=str(tmp_path / "pgdata"),
        EMBEDDED_PGDATABASE="quickstart_check",
        CELERY_BROKER_URL="filesystem://",
        DJANGO_ENV_FILE="",
    )

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )

    migrated = manage("migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    answer = manage("next_working_day", "2024-12-31")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "2025-01-05"
    # The server stopped with the last process that used it.
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()


def test_the_filesystem_broker_keeps_all_its_folders_under_its_data_dir(tmp_path: Path) -> None:
    """kombu's filesystem transport writes its exchange table to ./control unless told otherwise:
    the quick start must not leave broker files in the checkout."""
    env = {**os.environ, "CELERY_BROKER_URL": "filesystem://", "CELERY_BROKER_DATA_DIR": str(tmp_path)}
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.CELERY_BROKER_TRANSPORT_OPTIONS)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    options = ast.literal_eval(shown)
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert Path(options[key]).is_relative_to(tmp_path), (key, options[key])
