"""Colorize one very large grey scan and report the time and the process's peak memory.

    .venv/bin/python benchmarks/big_scan.py [--megapixels 50] [--model default]

The scan is made by upscaling examples/meadow.jpg (4:3), written as PNG, then run through the
same path as `chromatize colorize` (decode -> colorize -> atomic encode).
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.images import open_image, save_atomic  # noqa: E402
from chromatize.inference import load  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, default=50)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    width = int((args.megapixels * 1e6 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    tmp = Path(tempfile.mkdtemp())
    scan = tmp / "scan.png"
    Image.open(ROOT / "examples" / "meadow.jpg").convert("L").resize((width, height), Image.BILINEAR).save(scan)
    colorizer = load(args.model, device="cpu")
    before = peak_rss_mb()
    start = time.perf_counter()
    image = open_image(scan)
    decoded = time.perf_counter()
    result = colorizer.colorize(image)
    colored = time.perf_counter()
    save_atomic(result, tmp / "scan_color.png")
    done = time.perf_counter()
    print(f"{width}x{height} ({width * height / 1e6:.1f} MP) grey PNG")
    print(f"decode {decoded - start:.2f} s, colorize {colored - decoded:.2f} s, encode {done - colored:.2f} s, "
          f"total {done - start:.2f} s")
    print(f"peak memory {peak_rss_mb():.0f} MB (after loading the model: {before:.0f} MB)")


if __name__ == "__main__":
    main()
