#!/usr/bin/env bash
# A local dry run of the Gradescope upload, before term: build the zip, lay it out as Gradescope
# does (its contents into ROOT/source, the student's files into ROOT/submission), run its own
# setup.sh into a fresh venv, then its run_autograder, and print results.json.
#
#   bash scripts/gradescope/dry_run.sh SUBMISSION [ROOT]    # ROOT defaults to a new temp folder
#
# Run it as root, as Gradescope does (the sandbox user must reach the venv: keep ROOT outside
# root's home). apt-get is skipped unless RNNGRADE_SKIP_APT is set to the empty string.
# The Docker image (Dockerfile) has the same layout: /autograder/source holds the same files.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
submission=${1:?usage: dry_run.sh SUBMISSION [ROOT]}
root=${2:-$(mktemp -d /tmp/rnngrade-dry-run-XXXXXX)}
chmod 755 "$root"
if [ "$(id -u)" = 0 ]; then venv=${RNNGRADE_VENV:-/opt/rnngrade/venv}; else venv=${RNNGRADE_VENV:-$repo/.venv}; fi
"$venv/bin/rnngrade" gradescope build --out "$root/autograder.zip"
mkdir -p "$root/source" "$root/submission" "$root/results"
"$venv/bin/python" -m zipfile -e "$root/autograder.zip" "$root/source"
chmod 755 "$root/source/setup.sh" "$root/source/run_autograder"  # Gradescope keeps the modes
cp -r "$submission" "$root/submission/"
RNNGRADE_SOURCE="$root/source" RNNGRADE_VENV="$root/venv" RNNGRADE_SKIP_APT=${RNNGRADE_SKIP_APT-1} \
  RNNGRADE_TORCH_INDEX=${RNNGRADE_TORCH_INDEX-} bash "$root/source/setup.sh"
RNNGRADE_ROOT="$root" RNNGRADE_VENV="$root/venv" bash "$root/source/run_autograder"
echo "results: $root/results/results.json"
"$root/venv/bin/python" -c "import json, sys; r = json.load(open(sys.argv[1])); print('score', r['score'])" \
  "$root/results/results.json"
