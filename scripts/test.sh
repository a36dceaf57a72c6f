#!/usr/bin/env bash
# README command 2: set up and run the whole test suite against real PostgreSQL, Redis and
# Celery workers, which it installs (when missing) and starts on loopback, then stops.
# Extra arguments go to pytest, e.g. scripts/test.sh -k calendar
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$ROOT"

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root." >&2
    exit 1
  fi
  echo "Installing ${need[*]} from Debian packages ..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/gfss-test.XXXXXX")"
cleanup() {
  python scripts/testenv.py down --dir "$RUN_DIR" || true
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT INT TERM
python scripts/testenv.py up --dir "$RUN_DIR"
# shellcheck disable=SC1091
source "$RUN_DIR/env.sh"

status=0
step() {
  echo "==> $*"
  "$@" || { echo "FAILED: $*" >&2; status=1; }
}
step ruff check .
step ruff format --check .
step mypy .
step python manage.py makemigrations --check --dry-run
step python manage.py compilemessages --ignore=.venv -v 0
step pytest -n "${PYTEST_WORKERS:-2}" "$@"
exit $status
