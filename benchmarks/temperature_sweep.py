"""How a bin-classifier's decode temperature trades PSNR against colourfulness, on colour photos.

    .venv/bin/python benchmarks/temperature_sweep.py PHOTOS_OR_LIST --model M [--temperatures 0.38 0.5 0.7 1.0]

Runs `chromatize evaluate`'s scoring for each annealed-mean temperature (and the grey baseline)
and prints one table: the temperature that keeps delta_cf <= 10 with the best PSNR is the one to ship.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.evaluate import GrayBaseline, evaluate, format_table, list_photos  # noqa: E402
from chromatize.inference import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos")
    parser.add_argument("--model", default="default")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.38, 0.5, 0.7, 1.0])
    args = parser.parse_args()
    paths = list_photos(args.photos)
    summaries = {"gray": evaluate(GrayBaseline(), paths, progress=False)[1]}
    for t in args.temperatures:
        summaries[f"T={t:g}"] = evaluate(load(args.model, device="cpu", temperature=t), paths, progress=False)[1]
        print(f"T={t:g} done", file=sys.stderr, flush=True)
    print(f"model {args.model}, {len(paths)} photos")
    print(format_table(summaries))


if __name__ == "__main__":
    main()
