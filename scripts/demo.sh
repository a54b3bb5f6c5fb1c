#!/usr/bin/env bash
# The README's first command: set up (idempotent), build the homework notebooks into dist/, then
# grade every bundled example submission.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
if [ "$(id -u)" = 0 ]; then venv=${RNNGRADE_VENV:-/opt/rnngrade/venv}; else venv=${RNNGRADE_VENV:-$repo/.venv}; fi
"$venv/bin/rnngrade" build "$repo/assignments/rnn_lstm" --out "$repo/dist"
status=0
"$venv/bin/rnngrade" grade "$repo/examples/submissions" --results "${RESULTS_DIR:-$repo/results}" "$@" || status=$?
echo
echo "Next, in a new shell: source $venv/bin/activate   (then rnngrade grade ..., nbgrader ...)"
exit $status
