#!/usr/bin/env bash
# Creates .venv (if missing) and installs chromatize with its test tools into it. Idempotent.
# PyTorch is pinned to the CPU build (an unpinned torch would pull gigabytes of CUDA packages).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check "torch==2.13.0"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/python -c "import chromatize, torch; print(f'chromatize {chromatize.__version__} ready (torch {torch.__version__})')"
