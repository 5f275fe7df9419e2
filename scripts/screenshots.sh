#!/usr/bin/env bash
# Makes the web page's screenshots in docs/ again (after the default model or the page changes):
# the browser tests of tests/test_app.py, with CHROMATIZE_SCREENSHOTS pointing at docs/.
# Needs what the tests need: `bash scripts/setup.sh` and Chromium (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMATIZE_SCREENSHOTS="$PWD/docs" .venv/bin/python -m pytest -q tests/test_app.py -k browser "$@"
