#!/usr/bin/env bash
# Trains the default model that ships in chromatize/weights/ from ../shared/data, on the fixed
# split in splits/ (scripts/make_splits.py): it trains on splits/train.txt and validates (picks its
# best epoch) on splits/tune.txt; splits/test.txt is never seen. The photos bundled in examples/
# are in no list.
# Usage: bash scripts/train_default.sh [RUN_DIR [TRAIN FLAGS...]]    (BUDGET_MIN minutes of steps, 65 by
#        default; resumable: RESUME=1 bash scripts/train_default.sh RUN_DIR continues an interrupted run;
#        flags after RUN_DIR go to `chromatize train`, e.g. --config benchmarks/wide_attention.json)
# Then ship it: .venv/bin/chromatize export RUN_DIR/best.pt chromatize/weights/default.safetensors --half
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
RUN=${1:-runs/default}
CHROMATIZE=${CHROMATIZE:-.venv/bin/chromatize}
pool=$(mktemp -d)
trap 'rm -rf "$pool"' EXIT
mkdir "$pool/train" "$pool/tune"
for part in train tune; do
  while read -r rel; do
    ln -s "$(realpath "$DATA/$rel")" "$pool/$part/$(basename "$rel")"
  done < "splits/$part.txt"
done
"$CHROMATIZE" train "$pool/train" --val-dir "$pool/tune" --out "$RUN" --preset default --seed 0 --sample-every 5 \
  --epochs 100000 --time-budget-min "${BUDGET_MIN:-65}" ${RESUME:+--resume} "${@:2}"
