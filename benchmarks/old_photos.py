"""Colour on old-looking photos: the test split's photos with old-photo damage, colour scored alone.

    .venv/bin/python benchmarks/old_photos.py splits/test.txt --root ../shared/data \
        --model gray --model default [--seed 0]

Each photo becomes an old print by chromatize/degrade.py (an old plate's colour response, then the
camera's, film's, paper's, years' and scanner's damage; seeded per photo, so every model sees the
same print). The model colorizes the damaged grey; its a,b are put on the photo's clean L
and scored against the photo: only the colour counts. Also prints the same models on the clean
grey photos for comparison. (Same as `chromatize evaluate ... --old-photos SEED`.)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.evaluation.photos import EvalOptions, evaluate, format_table, list_photos, make_colorizer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", help="a folder or a list file (the test split)")
    parser.add_argument("--root", help="folder the list's relative paths start from")
    parser.add_argument("--model", action="append", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    models = args.model or ["gray", "default"]
    for title, options in (("clean grey input", EvalOptions()),
                           (f"old-photo input (seed {args.seed}), colour alone", EvalOptions(degrade_seed=args.seed))):
        summaries = {m: evaluate(make_colorizer(m, size=args.size), paths, options=options, progress=False)[1]
                     for m in models}
        print(f"{title}: {len(paths)} photos")
        print(format_table(summaries))
        for m in models:
            if m != "gray":
                gain = summaries[m]["psnr"] - summaries[m]["psnr_gray"]
                print(f"{m}: mean PSNR {summaries[m]['psnr']:.2f} dB, grey {summaries[m]['psnr_gray']:.2f} dB, "
                      f"gain {gain:+.2f} dB")
        print()


if __name__ == "__main__":
    main()
