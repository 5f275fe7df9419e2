#!/usr/bin/env bash
# Trains the default model that ships in chromatize/weights/ from ../shared/data (photos + objects),
# leaving out the photos whose grey versions are bundled in examples/ (listed in examples/HELD_OUT.txt).
# Usage: bash scripts/train_default.sh [RUN_DIR]    (47 minutes on a 2-core CPU)
# Then ship it: .venv/bin/chromatize export RUN_DIR/best.pt chromatize/weights/default.safetensors --half
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
RUN=${1:-runs/default}
CHROMATIZE=${CHROMATIZE:-.venv/bin/chromatize}
pool=$(mktemp -d)
trap 'rm -rf "$pool"' EXIT
for f in "$DATA"/photos/*.jpg "$DATA"/objects/*.jpg; do
  name=$(basename "$f")
  grep -qxF "$name" examples/HELD_OUT.txt || ln -s "$(realpath "$f")" "$pool/$name"
done
"$CHROMATIZE" train "$pool" --out "$RUN" --preset default --size 192 --epochs 80 --val-split 0.1 --seed 0 --sample-every 5
