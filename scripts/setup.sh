#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: system packages, then the
# project with its training and test extras, into the current Python.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
python3 -m pip install -q --disable-pip-version-check -e '.[train,dev]'
