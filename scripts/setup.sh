#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: system packages, then the
# project with its training and test extras, into the current Python.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
python3 -m pip install -q --disable-pip-version-check -e '.[train,dev]'
# The TF.js converter's own light environment (see convert/tfjs_export.py), so
# that the TF.js export test runs here too; without it that one test skips.
python3 -c "from convert.tfjs_export import ensure_env; ensure_env()" \
  || echo "setup: could not create .venv-tfjs; the TF.js export test will be skipped" >&2
