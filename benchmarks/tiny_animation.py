"""A long tiny animation: frames at their own size against frames scaled up to the model's size.

    .venv/bin/python benchmarks/tiny_animation.py [--frames 1000] [--side 8] [--runs 3] [--model default]

A GIF of `frames` frames of side x side pixels (a moving blob), colorized file to file with the
stabilizer, as `chromatize colorize` does; "model size" runs the same with every frame scaled up to
the 256 px the model sees (how frames were run before). Median wall seconds of `runs`.
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

from chromatize.inference import Colorizer, load  # noqa: E402
from chromatize.media.batch import colorize_media  # noqa: E402


def make_gif(path: Path, frames: int, side: int) -> None:
    images = []
    for i in range(frames):
        arr = np.full((side, side), 60, np.uint8)
        arr[:, (i % side):(i % side) + max(1, side // 3)] = 200
        images.append(Image.fromarray(arr, "L"))
    images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)


def timed(colorizer, source: Path, target: Path) -> float:
    started = time.perf_counter()
    colorize_media(source, target, model=colorizer, progress=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--side", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    colorizer = load(args.model)
    own = Colorizer.model_input

    def upscaled(self, l_full, *, upscale=True):
        return own(self, l_full, upscale=True)

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "tiny.gif"
        make_gif(src, args.frames, args.side)
        times = {"own size": [], "model size": []}
        for _ in range(args.runs):
            times["own size"].append(timed(colorizer, src, Path(tmp) / "a.gif"))
            Colorizer.model_input = upscaled
            try:
                times["model size"].append(timed(colorizer, src, Path(tmp) / "b.gif"))
            finally:
                Colorizer.model_input = own
    print(f"\n{args.frames} frames of {args.side}x{args.side}, model {args.model}, median of {args.runs}")
    print("| frames run at | seconds |\n|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    print(f"ratio: {statistics.median(times['model size']) / statistics.median(times['own size']):.1f}x")


if __name__ == "__main__":
    main()
