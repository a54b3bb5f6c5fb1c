#!/usr/bin/env bash
# Gradescope's non-Docker path runs this once, as root, when the autograder image is built; the
# Dockerfile runs it too. Gradescope extracts the zip into /autograder/source, this file and the
# package beside it; the install is scripts/setup.sh,
# the script CI runs. The RNNGRADE_* variables let CI run this very file outside a container.
set -euo pipefail
source_dir=${RNNGRADE_SOURCE:-/autograder/source}
if [ -z "${RNNGRADE_SKIP_APT:-}" ]; then
  apt-get update -q
  apt-get install -y -q python3 python3-venv
fi
# torch's CPU build (Gradescope has no GPU; the default index would fetch a multi-GB CUDA build).
# Set RNNGRADE_TORCH_INDEX to the empty string to use pip's default source instead.
RNNGRADE_TORCH_INDEX=${RNNGRADE_TORCH_INDEX-https://download.pytorch.org/whl/cpu} \
  RNNGRADE_EXTRAS=${RNNGRADE_EXTRAS-} RNNGRADE_VENV=${RNNGRADE_VENV:-/opt/rnngrade/venv} \
  bash "$source_dir/scripts/setup.sh"
chmod -R go-rwx "$source_dir"  # the hidden tests and the reference: root only
