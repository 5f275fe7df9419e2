#!/usr/bin/env bash
# Trains the default model that ships in chromatize/weights/ from ../shared/data (photos + objects),
# leaving out the photos whose grey versions are bundled in examples/ (listed in examples/HELD_OUT.txt).
# The 52 validation photos are fixed by name (scripts/default_val_images.txt), so every model card
# and benchmark compares on the same photos.
# Usage: bash scripts/train_default.sh [RUN_DIR]    (about 50 minutes on a 2-core CPU)
# Then ship it: .venv/bin/chromatize export RUN_DIR/best.pt chromatize/weights/default.safetensors --half
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
RUN=${1:-runs/default}
CHROMATIZE=${CHROMATIZE:-.venv/bin/chromatize}
pool=$(mktemp -d)
trap 'rm -rf "$pool"' EXIT
mkdir "$pool/train" "$pool/val"
for f in "$DATA"/photos/*.jpg "$DATA"/objects/*.jpg; do
  name=$(basename "$f")
  grep -qxF "$name" examples/HELD_OUT.txt && continue
  if grep -qxF "$name" scripts/default_val_images.txt; then
    ln -s "$(realpath "$f")" "$pool/val/$name"
  else
    ln -s "$(realpath "$f")" "$pool/train/$name"
  fi
done
"$CHROMATIZE" train "$pool/train" --val-dir "$pool/val" --out "$RUN" --preset default --seed 0 --sample-every 5 \
  --epochs 100000 --time-budget-min "${BUDGET_MIN:-45}"
