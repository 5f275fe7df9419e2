"""How far a point hint given on the first frame of a clip is carried (the point moves with the
flow, stabilize.PointTracker; the stabilizer carries colour besides).

    .venv/bin/python benchmarks/hint_carry.py [--clip ../shared/data/video/landscape-pan.gif] [--model default]
        [--x 200 --y 100 --color "#d03030"] [--shift 3.77]

The clip is a pan whose content moves left by `shift` px a frame (landscape-pan.gif: 3.77), so the
hinted spot is at (x - shift * n, y) in frame n. One hint on frame 0; the table gives, per frame,
the a,b distance between the output there and the hint's colour with the stabilizer (flow) and
without it (off), and the first frame where the distance passes 10 and 20 ab units.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import rgb_to_lab  # noqa: E402
from chromatize.inference.points import Point  # noqa: E402
from chromatize.inference import load  # noqa: E402
from chromatize.media.animation import read_animation  # noqa: E402
from chromatize.media.frames import FrameColorizer  # noqa: E402


def distances(colorizer, frames, hint: Point, shift: float, temporal: str) -> list[float]:
    want = hint.ab_norm().numpy() * 128
    out = []
    for n, rgb in enumerate(FrameColorizer(colorizer.for_frames(), temporal=temporal, hints=[hint]).colorize(frames)):
        x, y = int(round(hint.x - shift * n)), int(hint.y)
        if not 0 <= x < rgb.shape[1]:
            break
        pixel = torch.from_numpy(rgb[y:y + 1, x:x + 1] / 255.0).permute(2, 0, 1)[None].float()
        got = rgb_to_lab(pixel)[0, 1:, 0, 0].numpy()
        out.append(float(np.hypot(*(got - want))))
    return out


def first_over(values: list[float], limit: float) -> str:
    return next((str(i) for i, v in enumerate(values) if v > limit), f"> {len(values) - 1}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clip", default=str(ROOT.parent / "shared" / "data" / "video" / "landscape-pan.gif"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--x", type=float, default=200)
    parser.add_argument("--y", type=float, default=100)
    parser.add_argument("--color", default="#d03030")
    parser.add_argument("--shift", type=float, default=3.77)
    args = parser.parse_args()
    frames = read_animation(Path(args.clip)).frames
    colorizer = load(args.model, device="cpu")
    hint = Point.make(args.x, args.y, args.color)
    flow = distances(colorizer, frames, hint, args.shift, "flow")
    off = distances(colorizer, frames, hint, args.shift, "off")
    print(f"{Path(args.clip).name}: hint {args.color} at ({args.x:g}, {args.y:g}) on frame 0, "
          f"followed {args.shift:g} px/frame")
    print(f"{'frame':>6}{'ab distance, flow':>20}{'off':>8}")
    for n in [0, 1, 2, 3, 5, 8, 12, 20, 30, 40]:
        if n < len(flow):
            print(f"{n:>6}{flow[n]:>20.1f}{off[n]:>8.1f}")
    for limit in (10, 20):
        print(f"first frame over {limit} ab units: flow {first_over(flow, limit)}, off {first_over(off, limit)}")


if __name__ == "__main__":
    main()
