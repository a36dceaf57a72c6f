# Sourced by start.sh and test.sh: create or reuse .venv and install the locked dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$candidate"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)." >&2; exit 1; }
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "Creating the virtual environment in .venv ..."
  "$PY" -m venv "$ROOT/.venv"
fi
STAMP="$ROOT/.venv/.installed"
WANT="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "Installing dependencies from requirements.lock ..."
  "$ROOT/.venv/bin/python" -m pip install --quiet --upgrade "pip>=24"
  "$ROOT/.venv/bin/python" -m pip install --quiet -c "$ROOT/requirements.lock" -e "$ROOT[dev]"
  echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR" 2>/dev/null || true
