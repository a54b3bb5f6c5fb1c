#!/usr/bin/env bash
# Gradescope's non-Docker path runs this once, as root, when the autograder image is built.
# The zip holds the package in source/; the install is the same script CI runs.
set -euo pipefail
apt-get update -q
apt-get install -y -q python3 python3-venv
# torch's CPU build (Gradescope has no GPU; the default index would fetch a multi-GB CUDA build).
RNNGRADE_TORCH_INDEX=${RNNGRADE_TORCH_INDEX:-https://download.pytorch.org/whl/cpu} \
  RNNGRADE_VENV=/opt/rnngrade/venv bash /autograder/source/scripts/setup.sh
chmod -R go-rwx /autograder/source  # the hidden tests and the reference: root only
