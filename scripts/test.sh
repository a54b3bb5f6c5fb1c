#!/usr/bin/env bash
# The README's test command: set up (idempotent), then run the whole suite, slow tests included.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
if [ "$(id -u)" = 0 ]; then venv=${RNNGRADE_VENV:-/opt/rnngrade/venv}; else venv=${RNNGRADE_VENV:-$repo/.venv}; fi
cd "$repo"
exec "$venv/bin/python" -m pytest "$@"
