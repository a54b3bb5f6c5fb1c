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
# Chromium (Debian's package) for the browser test of the class report (tests/classroom/
# test_browser.py), only where tests are installed (not in the Gradescope image: RNNGRADE_EXTRAS
# is empty there). A failure is a warning: the test then skips, saying why.
if [ "$(id -u)" = 0 ] && [[ ",$extras," == *,test,* ]] && [ -z "${RNNGRADE_SKIP_APT:-}" ] \
    && command -v apt-get >/dev/null && ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq chromium >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true  # a fresh image has no package lists yet
    apt-get install -y -qq chromium >/dev/null 2>&1 \
      || echo "warning: could not install chromium (apt-get install chromium): the browser test will skip" >&2
  fi
fi
echo "rnngrade installed in $venv"
