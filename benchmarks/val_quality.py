"""PSNR of a model's colorization against the true colours, next to the grey baseline.

    .venv/bin/python benchmarks/val_quality.py IMAGE_LIST_OR_FOLDER [--model default] [--sizes 192 256 384]

IMAGE_LIST_OR_FOLDER: a folder of colour photos, or a text file with one path per line (a run's
val_images.txt). Each photo is reduced to its L, colorized, and compared with the original in 8-bit
RGB. The grey baseline keeps L and sets a = b = 0.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.images import find_images, open_image  # noqa: E402
from chromatize.inference import load  # noqa: E402
from chromatize.metrics import psnr  # noqa: E402


def chroma(rgb: np.ndarray) -> float:
    """Mean distance from grey, 8-bit units: a rough 'how colourful' figure."""
    x = rgb.astype(np.float64)
    return float(np.abs(x - x.mean(axis=2, keepdims=True)).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("images")
    parser.add_argument("--model", default="default")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256])
    parser.add_argument("--temperatures", type=float, nargs="+", default=[None])
    args = parser.parse_args()
    source = Path(args.images)
    paths = find_images(source) if source.is_dir() else [Path(x) for x in source.read_text().split()]
    truths = [np.asarray(open_image(p).convert("RGB")) for p in paths]
    greys = [Image.fromarray(t).convert("L").convert("RGB") for t in truths]
    print(f"{len(paths)} photos from {source}")
    print(f"{'model':>10} {'size':>5} {'T':>5} {'PSNR dB':>8} {'chroma':>7}")
    grey_psnr = statistics.mean(psnr(np.asarray(g), t) for g, t in zip(greys, truths))
    print(f"{'gray':>10} {'-':>5} {'-':>5} {grey_psnr:>8.2f} "
          f"{statistics.mean(chroma(t) for t in truths):>7.2f}  (chroma column: ground truth)")
    for size in args.sizes:
        for temperature in args.temperatures:
            colorizer = load(args.model, size=size, device="cpu", temperature=temperature)
            outs = [np.asarray(colorizer.colorize(Image.fromarray(t).convert("L"))) for t in truths]
            shown = f"{temperature:.2f}" if temperature else "model"
            mean_psnr = statistics.mean(psnr(o, t) for o, t in zip(outs, truths))
            mean_chroma = statistics.mean(chroma(o) for o in outs)
            print(f"{'model':>10} {size:>5} {shown:>5} {mean_psnr:>8.2f} {mean_chroma:>7.2f}")


if __name__ == "__main__":
    main()
