#!/usr/bin/env bash
# Trains the two members of the default model that ships in chromatize/weights/ (an ensemble that
# averages their logits) from ../shared/data, on the fixed split in splits/ (scripts/make_splits.py);
# splits/test.txt is never seen, and the photos bundled in examples/ are in no list.
# Usage: bash scripts/train_default.sh [RUN_DIR [TRAIN FLAGS...]]
#   Trains on splits/train.txt and validates (picks its best epoch) on splits/tune.txt, for
#   BUDGET_MIN minutes of steps (65 by default). The first member: runs/hint2, its best.pt.
#   FINAL=1 trains on train + tune (tune then only draws the curve). The second member:
#   FINAL=1 bash scripts/train_default.sh runs/final90 --epochs 90 --time-budget-min 0, its last.pt
#   (90 epochs, cosine over them; its train-only twin, without FINAL, scored as well as the first
#   member on tune at its last epoch).
#   Flags after RUN_DIR go to `chromatize train` (e.g. --config benchmarks/wide_attention.json);
#   RESUME=1 continues an interrupted run.
# Ship: .venv/bin/chromatize export runs/hint2/best.pt runs/final90/last.pt \
#         chromatize/weights/default.safetensors --half --temperature 0.55 --chroma-gain 0.5
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
if [[ -n "${FINAL:-}" ]]; then
  while read -r rel; do ln -s "$(realpath "$DATA/$rel")" "$pool/train/$(basename "$rel")"; done < splits/tune.txt
fi
"$CHROMATIZE" train "$pool/train" --val-dir "$pool/tune" --out "$RUN" --preset default --seed 0 --sample-every 5 \
  --epochs 100000 --time-budget-min "${BUDGET_MIN:-65}" ${RESUME:+--resume} "${@:2}"
