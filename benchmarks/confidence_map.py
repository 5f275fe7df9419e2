"""Does the certainty map mean something? Colour error per certainty band, and the picture for docs/.

    .venv/bin/python benchmarks/confidence_map.py splits/test.txt --root ../shared/data [--model default]
        [--figure docs/confidence.jpg]

For every photo: the colorized output and `Colorizer.confidence` (1 - normalised entropy of the
predicted colour distribution, 0-255). Pixels are pooled over the photos into five certainty
bands; the table gives each band's share of the pixels and its mean a,b error against the truth
(Euclidean, ab units). A map worth showing has the error fall as the certainty rises. The figure
shows grey | colorized | certainty (white = sure) | truth for the first photos of the list.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import rgb_to_lab  # noqa: E402
from chromatize.evaluation.photos import comparison_strip, list_photos  # noqa: E402
from chromatize.images import open_image  # noqa: E402
from chromatize.inference import load  # noqa: E402

BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.01)


def _ab(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_lab(torch.from_numpy(rgb / 255.0).permute(2, 0, 1)[None].float())[0, 1:].numpy()   # (2, H, W)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", help="a folder or a list file (the test split)")
    parser.add_argument("--root", help="folder the list's relative paths start from")
    parser.add_argument("--model", default="default")
    parser.add_argument("--figure", default=str(ROOT / "docs" / "confidence.jpg"))
    parser.add_argument("--rows", type=int, default=4)
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    colorizer = load(args.model, device="cpu")
    error_sum, count = np.zeros(len(BANDS) - 1), np.zeros(len(BANDS) - 1)
    samples = []
    for path in paths:
        truth = np.asarray(open_image(path).convert("RGB"))
        pred = np.asarray(colorizer.colorize(Image.fromarray(truth)))
        sure = np.asarray(colorizer.confidence(Image.fromarray(truth)), np.float64) / 255
        error = np.hypot(*(_ab(pred) - _ab(truth)))
        band = np.digitize(sure, BANDS) - 1
        error_sum += np.bincount(band.ravel(), weights=error.ravel(), minlength=len(count))[:len(count)]
        count += np.bincount(band.ravel(), minlength=len(count))[:len(count)]
        if len(samples) < args.rows:
            grey = np.asarray(Image.fromarray(truth).convert("L").convert("RGB"))
            samples.append((grey, pred, np.asarray(Image.fromarray((sure * 255).astype(np.uint8)).convert("RGB")),
                            truth))
    print(f"model {args.model}, {len(paths)} photos")
    print(f"{'certainty':>12}{'pixels':>9}{'ab error':>10}")
    for i in range(len(count)):
        share = count[i] / count.sum()
        err = error_sum[i] / count[i] if count[i] else float("nan")
        print(f"{BANDS[i]:>5.1f}-{min(BANDS[i + 1], 1.0):<5.1f} {share:>8.1%}{err:>10.2f}")
    print(f"all         {1:>8.1%}{error_sum.sum() / count.sum():>10.2f}")
    comparison_strip(samples).convert("RGB").save(args.figure, quality=88)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
