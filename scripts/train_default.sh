#!/usr/bin/env bash
# Trains the default model that ships in chromatize/weights/ from ../shared/data, on the fixed
# split in splits/ (scripts/make_splits.py): it trains on splits/train.txt and validates (picks its
# best epoch) on splits/tune.txt; splits/test.txt is never seen. The photos bundled in examples/
# are in no list. Two stages, 120 minutes of steps in all:
#   1. RUN/base   the hint-taking U-Net (point hints at the input, reference palette in the global
#                 branch), STAGE1_MIN minutes (65), half the images without hints
#   2. RUN/final  the same network plus the hint pyramid (hints.md: point hints also added to the
#                 decoder at 1/16, 1/8, 1/4), started from stage 1, STAGE2_MIN minutes (55),
#                 a quarter of the images without hints, lr 1e-3
# Usage: bash scripts/train_default.sh [RUN]   (resumable: RESUME=1 continues an interrupted stage;
#        START=2 skips stage 1 and starts stage 2 from the shipped model, as the shipped one was made)
# Then ship it: .venv/bin/chromatize export RUN/final/last.pt chromatize/weights/default.safetensors --half
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
common=(--val-dir "$pool/tune" --preset default --seed 0 --sample-every 5 --epochs 100000)
if [ "${START:-1}" = 1 ]; then
  [ -f "$RUN/base/model.safetensors" ] && [ -z "${RESUME:-}" ] || \
  "$CHROMATIZE" train "$pool/train" --out "$RUN/base" "${common[@]}" \
    --model-option hints=true --model-option depth=4 \
    --time-budget-min "${STAGE1_MIN:-65}" ${RESUME:+--resume}
  init="$RUN/base"
else
  init=default
fi
if [ -n "${RESUME:-}" ] && [ -f "$RUN/final/last.pt" ]; then
  "$CHROMATIZE" train "$pool/train" --out "$RUN/final" "${common[@]}" --resume
else
  "$CHROMATIZE" train "$pool/train" --out "$RUN/final" "${common[@]}" --init "$init" --hint-free 0.25 --lr 1e-3 \
    --time-budget-min "${STAGE2_MIN:-55}" --checkpoint-every-steps 200
fi
