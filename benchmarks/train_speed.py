"""Training speed: images/s of each recipe, and how long the report's recipe (seed-beta) takes to
reach its best validation loss on a 50-photo folder.

    .venv/bin/python benchmarks/train_speed.py [--photos ../shared/data/photos] [--budget-min 15]
                                               [--default-budget-min 3] [--out runs/train_speed]

The folder is every 5th photo of --photos (the first 50 of those), split 45 / 5 with seed 0. Each
recipe trains for its budget of training-step minutes; the table gives the median images/s over
epochs, the epoch with the best validation loss, and the training time spent up to that epoch
(history.csv's per-epoch seconds, which leave out the few seconds of validation).
"""
from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fifty_photos(photos: Path, folder: Path) -> None:
    chosen = sorted(p for p in photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[::5][:50]
    for path in chosen:
        (folder / path.name).symlink_to(path.resolve())


def train(folder: Path, out: Path, preset: str, budget: float) -> list[dict]:
    exe = Path(sys.executable).with_name("chromatize")
    subprocess.run([str(exe), "train", str(folder), "--out", str(out), "--preset", preset, "--epochs", "100000",
                    "--time-budget-min", str(budget), "--val-split", "0.1", "--seed", "0", "--sample-every", "0",
                    "-q"], check=True)
    with open(out / "history.csv", newline="") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", default=str(ROOT.parent / "shared" / "data" / "photos"))
    parser.add_argument("--budget-min", type=float, default=15.0, help="seed-beta's training budget")
    parser.add_argument("--default-budget-min", type=float, default=3.0, help="the default recipe's budget")
    parser.add_argument("--out", default="runs/train_speed")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fifty_photos(Path(args.photos), folder)
        for preset, budget in (("seed-beta", args.budget_min), ("default", args.default_budget_min)):
            history = train(folder, Path(args.out) / preset, preset, budget)
            best = min(range(len(history)), key=lambda i: history[i]["val_loss"])
            to_best = sum(r["seconds"] for r in history[:best + 1])
            rate = statistics.median(r["images_per_s"] for r in history)
            rows.append((preset, budget, int(history[-1]["step"]), rate, best + 1, len(history),
                         history[best]["val_loss"], to_best))
    print(f"50 photos (45 train / 5 val) from {args.photos}")
    print(f"{'recipe':<11}{'budget':>8}{'steps':>7}{'img/s':>8}{'best epoch':>12}{'best val':>10}{'to best':>10}")
    for preset, budget, steps, rate, best, epochs, val, to_best in rows:
        print(f"{preset:<11}{budget:>6.0f} m{steps:>7}{rate:>8.1f}{f'{best}/{epochs}':>12}{val:>10.4f}"
              f"{to_best / 60:>8.1f} m")


if __name__ == "__main__":
    main()
