#!/usr/bin/env bash
# Sets everything up, then colorizes the bundled black-and-white example photos with the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/chromatize colorize examples -o out/examples
echo "The colorized examples are in $(pwd)/out/examples"
