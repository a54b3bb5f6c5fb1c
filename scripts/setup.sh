#!/usr/bin/env bash
# Create the rnngrade virtual environment and install the package into it.
# Used by the README, by .ci/run, and (through scripts/gradescope/setup.sh) by the Dockerfile and
# the Gradescope zip: one install path everywhere.
#
#   bash scripts/setup.sh            # venv at $RNNGRADE_VENV
#
# The sandboxed worker runs as an unprivileged user when grading as root, so as root the venv
# must be executable by every user: it is made from the system python3 (not one in root's home)
# in a world-readable folder outside the checkout, /opt/rnngrade/venv by default.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" = 0 ]; then default=/opt/rnngrade/venv; else default="$repo/.venv"; fi
venv=${RNNGRADE_VENV:-$default}
python=${RNNGRADE_PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=$(command -v python3)

if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
fi
[ "$(id -u)" = 0 ] && chmod a+rx "$(dirname "$venv")"  # the sandbox user must reach it
"$venv/bin/python" -m pip install -q --upgrade pip
# torch first: 2.13.0 is the CPU wheel on this machine's disk; anything else would fetch CUDA.
# RNNGRADE_TORCH_INDEX (Gradescope: PyTorch's CPU index) says where to take it from instead.
if [ -n "${RNNGRADE_TORCH_INDEX:-}" ]; then
  "$venv/bin/python" -m pip install -q "torch>=2.2,<2.15" --index-url "$RNNGRADE_TORCH_INDEX"
else
  "$venv/bin/python" -m pip install -q "torch==2.13.0"
fi
# RNNGRADE_EXTRAS: test (pytest), assign (otter-grader, nbgrader: building the homework) and
# cluster (Dask: grading a class on a cluster).
extras=${RNNGRADE_EXTRAS-test,assign,cluster}
"$venv/bin/python" -m pip install -q -e "$repo${extras:+[$extras]}"
[ "$(id -u)" = 0 ] && chmod -R a+rX "$venv"
echo "rnngrade installed in $venv"
