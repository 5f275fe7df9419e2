"""Choose a bin-classifier's decode knobs on the tune split: temperature x chroma gain.

    .venv/bin/python benchmarks/decode_sweep.py splits/tune.txt --root ../shared/data --model runs/default \
        [--temperatures 0.38 0.55 0.7] [--gains 0 0.5 1 2]

The annealed-mean temperature trades vividness against drift to the gamut centre; the chroma gain
(models/unet.py) holds colour back where the predicted distribution is unsure. Every pair is scored
with `chromatize evaluate`'s scoring; the rule printed last is the one used to pick the shipped
knobs: the best mean PSNR among the pairs with delta_cf <= 8; where no pair keeps delta_cf <= 8,
the most colourful pair within 0.1 dB of the best mean PSNR. Run it on tune, never on test.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.evaluation.photos import GrayBaseline, evaluate, format_table, list_photos  # noqa: E402
from chromatize.inference import load  # noqa: E402

MAX_DELTA_CF = 8.0
PSNR_TIE = 0.1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", help="a folder or a list file (the tune split)")
    parser.add_argument("--root", help="folder the list's relative paths start from")
    parser.add_argument("--model", default="default")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.38, 0.55, 0.7])
    parser.add_argument("--gains", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0])
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    summaries = {"gray": evaluate(GrayBaseline(), paths, progress=False)[1]}
    for t in args.temperatures:
        for g in args.gains:
            colorizer = load(args.model, size=args.size, device="cpu", temperature=t, chroma_gain=g)
            summaries[f"T={t:g} g={g:g}"] = evaluate(colorizer, paths, progress=False)[1]
            print(f"T={t:g} g={g:g} done", file=sys.stderr, flush=True)
    print(f"model {args.model}, {len(paths)} photos, size {args.size}")
    print(format_table(summaries))
    print(pick(summaries))


def pick(summaries: dict[str, dict]) -> str:
    pairs = {k: s for k, s in summaries.items() if k != "gray"}
    allowed = {k: s for k, s in pairs.items() if s["delta_cf"] <= MAX_DELTA_CF}
    if allowed:
        best = max(allowed, key=lambda k: allowed[k]["psnr"])
        return f"pick: {best} (best mean PSNR with delta_cf <= {MAX_DELTA_CF:g})"
    top = max(s["psnr"] for s in pairs.values())
    near = {k: s for k, s in pairs.items() if s["psnr"] >= top - PSNR_TIE}
    best = max(near, key=lambda k: near[k]["colorfulness"])
    return (f"pick: {best} (no pair keeps delta_cf <= {MAX_DELTA_CF:g}; the most colourful within "
            f"{PSNR_TIE:g} dB of the best mean PSNR)")


if __name__ == "__main__":
    main()
