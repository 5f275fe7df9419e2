#!/usr/bin/env bash
# Trains the default model that ships in chromatize/weights/ (the ImageNet-encoder U-Net of
# models/lite_unet.py, preset "default") from ../shared/data, on the fixed split in splits/
# (scripts/make_splits.py); splits/test.txt is never seen, and the photos bundled in examples/
# are in no list.
# Usage: bash scripts/train_default.sh [RUN_DIR [TRAIN FLAGS...]]
#   Trains on splits/train.txt and validates (picks its best epoch) on splits/tune.txt, for
#   BUDGET_MIN minutes of steps (25 by default); about 11 images/s on 2 cores with the preset's hint
#   logits (bf16 on AMX; 6-7 each with two runs side by side, one thread each). The pool of images
#   gets one subfolder per source group (objects, food, people, general) for --group-weights.
#   Flags after RUN_DIR go to `chromatize train`; RESUME=1 continues an interrupted run
#   (a checkpoint is written every 200 steps). TRAIN_LIST and TUNE_LIST replace splits/train.txt and
#   splits/tune.txt (a subset: the learning curve's splits/curve/*.txt; the lists of the default
#   before: splits/previous/).
# Ship: the default is an ensemble of two networks: network 1 of the default before fine-tuned on
# everything in splits/train.txt with sampling weighted by source group, then on with more and more
# old prints (degrade.py, calibrated against genuine 1912 prints), a tone-blind input and a consistency
# term (a print's answer pulled toward the clean photo's), and network 2 of the default before
# as it was (fine-tuning it too cost the general tune photos 0.36 dB: BENCHMARKS.md, "People and old
# photos"); about 145 minutes on 2 cores from nothing (35 + 45 + 20 + 15 + 15 + 15), steps 0-4:
#   0. the default before's two networks (664 images: splits/previous/train.txt, validated on
#      splits/previous/tune.txt; network 2 was trained on a lent GPU, so this gives another draw
#      of its seed, BENCHMARKS.md "Fourteen runs on a lent GPU"):
#      L=splits/previous; TRAIN_LIST=$L/train.txt TUNE_LIST=$L/tune.txt BUDGET_MIN=35 bash scripts/train_default.sh runs/hlreg30 --epochs 31
#      TRAIN_LIST=$L/train.txt TUNE_LIST=$L/tune.txt BUDGET_MIN=45 bash scripts/train_default.sh runs/s4 --epochs 31 --seed 4
#   1. BUDGET_MIN=80 bash scripts/train_default.sh runs/ft1 --init runs/hlreg30/best.pt --lr 3e-4 --epochs 20 \
#        --steps-per-epoch 40 --seed 5 --group-weights general=0.4,people=0.3,food=0.15,objects=0.15
#      (800 steps: 20 minutes alone; the budget is a ceiling, steps end it; 30 % old prints of
#      degrade.py as it was before its calibration, commit 72c5cb9)
#   2. BUDGET_MIN=45 bash scripts/train_default.sh runs/ftN1 --init runs/ft1/best.pt --lr 1e-4 --epochs 15 \
#        --steps-per-epoch 40 --seed 9 --degrade 0.5 --group-weights general=0.4,people=0.3,food=0.15,objects=0.15
#   3. BUDGET_MIN=45 bash scripts/train_default.sh runs/ftE5a --init runs/ftN1/best.pt --lr 1e-4 --epochs 15 \
#        --steps-per-epoch 40 --seed 12 --degrade 0.8 --group-weights general=0.4,people=0.3,food=0.15,objects=0.15 \
#        --model-option equalized=channel
#   4. BUDGET_MIN=45 bash scripts/train_default.sh runs/ftC3 --init runs/ftE5a/best.pt --lr 1e-4 --epochs 15 \
#        --steps-per-epoch 40 --seed 13 --degrade 0.8 --group-weights general=0.4,people=0.3,food=0.15,objects=0.15 \
#        --model-option equalized=channel --consistency 3.0
#      (600 steps each: 12-15 minutes alone; 50 % and then 80 % of the inputs old prints; from step 3 on
#      the encoder's third input channel is the equalized lightness, models/lite_unet.py; step 4 adds
#      the consistency term, and its LAST weights ship: its validation loss, clean photos only, is
#      lowest after its first epoch, so its best.pt holds 40 steps)
# then, with the decode knobs chosen on tune (benchmarks/decode_sweep.py splits/tune.txt --root ../shared/data
# --model runs/ft1/best.pt --ensemble-with runs/s4/best.pt --temperatures 0.45 0.5 0.55 0.65 0.8 --gains 0 0.04,
# the rule: best mean PSNR with delta_cf <= 12; kept for steps 2-4, and swept again for step 4 with
# --temperatures 0.35 0.45 0.55 --gains 0 0.04 0.1 --old-photos 0: kept):
#   .venv/bin/chromatize export runs/ftC3/last.pt runs/s4/best.pt chromatize/weights/default.safetensors \
#       --half --temperature T --chroma-gain G
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
RUN=${1:-runs/default}
CHROMATIZE=${CHROMATIZE:-.venv/bin/chromatize}
pool=$(mktemp -d)
trap 'rm -rf "$pool"' EXIT
group() {      # the source group of a list entry: objects, food, people or general (--group-weights)
  case "$1" in
    objects/*) echo objects ;;
    */food-*) echo food ;;
    */people-*) echo people ;;
    *) echo general ;;
  esac
}
link_all() {   # list file, pool folder: one subfolder per source group
  while read -r rel; do
    mkdir -p "$2/$(group "$rel")"
    ln -s "$(realpath "$DATA/$rel")" "$2/$(group "$rel")/$(basename "$rel")"
  done < "$1"
}
link_all "${TRAIN_LIST:-splits/train.txt}" "$pool/train"
link_all "${TUNE_LIST:-splits/tune.txt}" "$pool/tune"
"$CHROMATIZE" train "$pool/train" --val-dir "$pool/tune" --out "$RUN" --preset default --seed 0 --sample-every 5 \
  --epochs 100000 --time-budget-min "${BUDGET_MIN:-25}" --checkpoint-every-steps 200 ${RESUME:+--resume} "${@:2}"
