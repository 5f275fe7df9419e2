"""Our strip-wise PNG writer (rowfiles.write_png) against pypng, the PNG library that writes rows
from an iterator, on the same colorized-looking rows: time and size, 8 and 16 bits.

    .venv/bin/pip install pypng   # not a dependency: only this comparison needs it
    .venv/bin/python benchmarks/png_writers.py [--megapixels 12] [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.rowfiles import write_png  # noqa: E402

STRIP = 64


def rows_of(megapixels: float, bits: int) -> np.ndarray:
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    rgb = np.asarray(Image.open(ROOT / "examples" / "meadow.jpg").convert("RGB").resize((width, width * 3 // 4)))
    return rgb.astype(np.uint16) * 257 if bits == 16 else rgb


def ours(path: Path, rgb: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    write_png(path, w, h, 3, (rgb[top:top + STRIP] for top in range(0, h, STRIP)))


def pypng(path: Path, rgb: np.ndarray) -> None:
    import png

    h, w = rgb.shape[:2]
    writer = png.Writer(w, h, greyscale=False, bitdepth=16 if rgb.dtype == np.uint16 else 8, compression=6)
    with open(path, "wb") as f:
        writer.write(f, (row.reshape(-1) for row in rgb))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'writer':>8}{'bits':>6}{'median s':>10}{'MB':>8}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for bits in (8, 16):
            rgb = rows_of(args.megapixels, bits)
            medians = {}
            for name, write in (("ours", ours), ("pypng", pypng)):
                path = Path(tmp) / f"{name}.png"
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    write(path, rgb)
                    times.append(time.perf_counter() - start)
                assert np.array_equal(np.asarray(Image.open(path)) if bits == 8 else _read16(path), rgb)
                medians[name] = statistics.median(times)
                print(f"{name:>8}{bits:>6}{medians[name]:>10.2f}{path.stat().st_size / 1e6:>8.2f}"
                      f"{medians[name] / medians['ours']:>8.2f}", flush=True)


def _read16(path: Path) -> np.ndarray:
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]


if __name__ == "__main__":
    main()
