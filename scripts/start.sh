#!/usr/bin/env bash
# README command 1: set up and start the app on the embedded default (PostgreSQL from a wheel,
# a filesystem Celery broker, one Celery worker beside the web server). Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" scripts/quickstart.py "$@"
