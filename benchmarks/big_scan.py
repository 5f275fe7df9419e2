"""Colorize one very large grey scan and report the time and the process's peak memory.

    .venv/bin/python benchmarks/big_scan.py [--megapixels 12 50 100] [--model default] [--format png]

The scan is made by upscaling examples/meadow.jpg (4:3) to grey, written as PNG, then run through
the same path as `chromatize colorize` (decode -> predict -> paste and encode strip by strip:
images.save_colorized; PNG and TIFF are written a strip of rows at a time). Each size runs in a
process of its own, so each peak memory (RSS) is that size's alone; one table row per size.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.images import open_image, save_atomic, save_colorized  # noqa: E402
from chromatize.inference import _compose, load  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, nargs="+", default=[12, 50, 100])
    parser.add_argument("--model", default="default")
    parser.add_argument("--format", default="png", help="output format: png, jpg or tif")
    parser.add_argument("--paths", nargs="+", default=["strips", "whole"],
                        help="strips: save_colorized (what chromatize does); whole: the earlier way, the whole "
                             "output as one image, then PIL encodes it (for the time and memory ratio)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)    # a child process: one size
    args = parser.parse_args()
    if not args.one:
        print(f"{'path':>7}{'size':>13}{'MP':>7}{'decode s':>10}{'predict s':>12}{'paste+encode s':>15}{'total s':>9}"
              f"{'peak MB':>9}{'model MB':>10}")
        for mp in args.megapixels:
            for path in args.paths:
                subprocess.run([sys.executable, __file__, "--one", "--megapixels", str(mp), "--model", args.model,
                                "--format", args.format, "--paths", path], check=True)
        return
    run_one(args.megapixels[0], args.model, args.format, args.paths[0])


def run_one(megapixels: float, model: str, fmt: str, path: str) -> None:
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    tmp = Path(tempfile.mkdtemp())
    scan = tmp / "scan.png"
    Image.open(ROOT / "examples" / "meadow.jpg").convert("L").resize((width, height), Image.BILINEAR).save(scan)
    colorizer = load(model, device="cpu")
    before = peak_rss_mb()
    start = time.perf_counter()
    image = open_image(scan)
    decoded = time.perf_counter()
    [(light, ab)] = colorizer.predict([image])
    colored = time.perf_counter()
    del image
    if path == "strips":
        save_colorized(light, ab, tmp / f"scan_color.{fmt}")
    else:
        save_atomic(_compose(light, ab), tmp / f"scan_color.{fmt}")
    done = time.perf_counter()
    print(f"{path:>7}{f'{width}x{height}':>13}{width * height / 1e6:>7.1f}{decoded - start:>10.2f}{colored - decoded:>12.2f}"
          f"{done - colored:>15.2f}{done - start:>9.2f}{peak_rss_mb():>9.0f}{before:>10.0f}", flush=True)
    for path in tmp.iterdir():
        path.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
