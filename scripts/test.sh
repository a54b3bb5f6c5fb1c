#!/usr/bin/env bash
# The README's test command: set up (idempotent), then run the whole suite, slow tests included.
# As root, the sandbox's tests run once more as an unprivileged user (nobody), the way a TA's
# laptop grades, where that user can read this checkout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
if [ "$(id -u)" = 0 ]; then venv=${RNNGRADE_VENV:-/opt/rnngrade/venv}; else venv=${RNNGRADE_VENV:-$repo/.venv}; fi
cd "$repo"
"$venv/bin/python" -m pytest "$@"
if [ "$(id -u)" = 0 ] && [ $# = 0 ] && command -v runuser >/dev/null \
    && runuser -u nobody -- test -r "$repo/tests/autograder/test_sandbox.py"; then
  base=$(mktemp -d) && chmod 1777 "$base"
  echo "The sandbox's tests and the attacks again, not as root (as nobody):"
  runuser -u nobody -- env HOME="$base" PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest \
    -p no:cacheprovider --basetemp="$base/pytest" tests/autograder/test_sandbox.py \
    tests/autograder/test_spawner.py \
    tests/autograder/test_worker.py tests/autograder/test_cli.py -q \
    -k "not test_cli or gains_nothing or refused or infinite_loop"
  rm -rf "$base"
fi
