"""Colorize one very large grey scan and report the time and the process's peak memory.

    .venv/bin/python benchmarks/big_scan.py [--megapixels 12 50 100] [--model default] [--format png] [--bits 16]

The scan is made by upscaling examples/meadow.jpg (4:3) to grey, written as PNG (8 or 16 bits, with
EXIF, XMP and 600 dpi, which the output carries: metadata.py), then run through
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

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.images import open_image, save_atomic, save_colorized  # noqa: E402
from chromatize.inference.colorizer import _compose, load  # noqa: E402


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
    parser.add_argument("--bits", type=int, choices=[8, 16], default=8,
                        help="the scan's bit depth (16: PNG and TIFF outputs are 16-bit too)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)    # a child process: one size
    args = parser.parse_args()
    if not args.one:
        print(f"{'path':>7}{'size':>13}{'MP':>7}{'decode s':>10}{'predict s':>12}{'paste+encode s':>15}{'total s':>9}"
              f"{'peak MB':>9}{'model MB':>10}")
        for mp in args.megapixels:
            for path in args.paths:
                subprocess.run([sys.executable, __file__, "--one", "--megapixels", str(mp), "--model", args.model,
                                "--format", args.format, "--paths", path, "--bits", str(args.bits)], check=True)
        return
    run_one(args.megapixels[0], args.model, args.format, args.paths[0], args.bits)


def make_scan(path: Path, width: int, height: int, bits: int) -> None:
    grey = Image.open(ROOT / "examples" / "meadow.jpg").convert("L").resize((width, height), Image.BILINEAR)
    if bits == 16:
        grey = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    exif = Image.Exif()
    exif.update({0x013B: "Ann Artist", 0x8298: "(c) Archive", 0x010E: "A meadow"})
    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    grey.save(path, exif=exif, pnginfo=info, dpi=(600, 600))


def run_one(megapixels: float, model: str, fmt: str, path: str, bits: int) -> None:
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    tmp = Path(tempfile.mkdtemp())
    scan = tmp / "scan.png"
    make_scan(scan, width, height, bits)
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
