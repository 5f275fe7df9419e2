"""The report's recipe against ours, on the same photos, validation split and wall-clock budget.

    .venv/bin/python benchmarks/quality.py DATA_DIR [--budget-min 12] [--out runs/quality]

Trains (a) `--preset seed-beta` and (b) `--preset default` on DATA_DIR, each for --budget-min
minutes of training steps (validation split 0.1, seed 0: the same split for both), then runs
`chromatize evaluate` on that split's photos with the grey baseline and both best checkpoints,
and prints the comparison table (also written to OUT/quality.txt).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

RECIPES = ("seed-beta", "default")


def chromatize(*args: str) -> str:
    exe = Path(sys.executable).with_name("chromatize")
    result = subprocess.run([str(exe), *args], check=True, capture_output=True, text=True)
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--budget-min", type=float, default=12.0)
    parser.add_argument("--out", default="runs/quality")
    args = parser.parse_args()
    out = Path(args.out)
    for recipe in RECIPES:
        print(f"training {recipe} for {args.budget_min} min ...", flush=True)
        print(chromatize("train", args.data_dir, "--out", str(out / recipe), "--preset", recipe, "--epochs", "100000",
                         "--time-budget-min", str(args.budget_min), "--val-split", "0.1", "--seed", "0", "-q"),
              end="", flush=True)
    val_list = out / RECIPES[0] / "val_images.txt"
    if val_list.read_text() != (out / RECIPES[1] / "val_images.txt").read_text():
        raise SystemExit("the two runs did not get the same validation photos")
    models = ["gray"] + [str(out / recipe / "model.safetensors") for recipe in RECIPES]
    table = chromatize("evaluate", str(val_list), *sum((["--model", m] for m in models), []),
                       "--out", str(out / "eval"), "-q")
    (out / "quality.txt").write_text(table)
    print(f"budget {args.budget_min} min of training each; validation photos: {val_list}\n{table}")


if __name__ == "__main__":
    main()
