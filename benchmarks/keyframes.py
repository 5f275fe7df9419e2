"""Keyframe hints on two-shot clips made from the test split: do points given on a middle frame of
shot 1 lift the frames before and after it, and leave shot 2 alone?

    .venv/bin/python benchmarks/keyframes.py [--clips 8] [--frames 24] [--points 5] [--model default]

Each clip: two test photos (seeded draw from splits/test.txt), each panned over 3 px a frame for
`frames` frames at 320x240, joined with a hard cut; the model sees only their L. Points: `points`
seeded user points (training/simulated_hints.user_points) from the true colours of shot 1's middle
frame (the keyframe). Rows: PSNR (dB, against the true colour frames; median over clips of each
part's mean) of shot 1 before the keyframe, the keyframe, shot 1 after it, and shot 2, without
points and with them; and the largest pixel change in shot 2 (0 = untouched).
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.evaluation.metrics import psnr  # noqa: E402
from chromatize.inference import load  # noqa: E402
from chromatize.inference.points import Point  # noqa: E402
from chromatize.media.frames import FrameColorizer  # noqa: E402
from chromatize.training.simulated_hints import user_points  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SIZE, STEP = (320, 240), 3


def pan(photo: Path, frames: int) -> list[np.ndarray]:
    """`frames` 320x240 windows sliding right over the photo, 3 px a frame (RGB uint8)."""
    width = SIZE[0] + STEP * frames
    img = Image.open(photo).convert("RGB")
    scale = max(width / img.width, SIZE[1] / img.height)
    img = img.resize((max(width, round(img.width * scale)), max(SIZE[1], round(img.height * scale))),
                     Image.Resampling.LANCZOS)
    top = (img.height - SIZE[1]) // 2
    arr = np.asarray(img)
    return [np.ascontiguousarray(arr[top:top + SIZE[1], i * STEP:i * STEP + SIZE[0]]) for i in range(frames)]


def grey(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [np.asarray(Image.fromarray(f).convert("L").convert("RGB")) for f in frames]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=24, help="frames per shot")
    parser.add_argument("--points", type=int, default=5)
    parser.add_argument("--model", default="default")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    photos = [DATA / line.strip() for line in (ROOT / "splits" / "test.txt").read_text().split() if line.strip()]
    rng = random.Random(args.seed)
    colorizer = load(args.model).for_frames()
    key = args.frames // 2
    parts = {"shot 1 before": slice(0, key), "keyframe": slice(key, key + 1),
             "shot 1 after": slice(key + 1, args.frames), "shot 2": slice(args.frames, 2 * args.frames)}
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in parts}
    untouched = []
    for clip in range(args.clips):
        a, b = rng.sample(photos, 2)
        truth = pan(a, args.frames) + pan(b, args.frames)
        hints = [Point(x, y, rgb, frame=key) for x, y, rgb in user_points(truth[key], args.points, seed=(args.seed, clip))]
        plain = list(FrameColorizer(colorizer).colorize(grey(truth)))
        keyed = list(FrameColorizer(colorizer, hints=hints).colorize(grey(truth)))
        for name, part in parts.items():
            rows[name].append((np.mean([psnr(p, t) for p, t in zip(plain[part], truth[part])]),
                               np.mean([psnr(p, t) for p, t in zip(keyed[part], truth[part])])))
        untouched.append(max(int(np.abs(p.astype(int) - k).max()) for p, k in
                             zip(plain[parts["shot 2"]], keyed[parts["shot 2"]])))
        print(f"clip {clip + 1}: {a.name} | {b.name}", flush=True)
    print(f"\n{args.clips} clips of 2 x {args.frames} frames, {args.points} points on frame {key}, model {args.model}")
    print(f"| part | without points (dB) | with points (dB) | gain (dB, median of clips) |\n|---|---|---|---|")
    for name, values in rows.items():
        before, after = np.median([v[0] for v in values]), np.median([v[1] for v in values])
        gain = np.median([v[1] - v[0] for v in values])
        print(f"| {name} | {before:.2f} | {after:.2f} | {gain:+.2f} |")
    print(f"largest pixel change in shot 2 over all clips: {max(untouched)}")


if __name__ == "__main__":
    main()
