"""The floor of the 8-bit warp error: what a perfectly steady colorizer would still score.

    .venv/bin/python benchmarks/warp_floor.py [CLIP ...] [--max-frames 120]

Gives every frame of each clip its own L with one constant a,b = (10, 20), encodes it as 8-bit
RGB like a real output, and scores the a,b read back from those frames with the warp-error metric
of `chromatize evaluate-video`. The a,b never changes, so everything measured comes from 8-bit
rounding and gamut clipping varying with L. The float a,b scores 0 by construction.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import AB_SCALE, merge_l_ab  # noqa: E402
from chromatize.evaluation.clips import _lab, read_clip  # noqa: E402
from chromatize.evaluation.metrics import WarpErrorAccumulator  # noqa: E402
from chromatize.media.frames import frames_lightness  # noqa: E402

VIDEO = ROOT.parent / "shared" / "data" / "video"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clips", nargs="*", default=[str(VIDEO / n) for n in ("landscape-pan.gif", "tree.avi",
                                                                             "vtest.avi")])
    parser.add_argument("--max-frames", type=int, default=120)
    args = parser.parse_args()
    ab = (torch.tensor([10.0, 20.0]) / AB_SCALE).view(1, 2, 1, 1)
    print(f"{'clip':<22}{'frames':>8}{'8-bit warp error floor':>26}")
    for clip in args.clips:
        frames, _ = read_clip(Path(clip))
        warp, n = WarpErrorAccumulator(), 0
        for frame in frames:
            if n == args.max_frames:
                break
            lab = _lab(merge_l_ab(frames_lightness([frame]), ab))
            warp.add(np.clip(lab[..., 0] * 2.55 + 0.5, 0, 255).astype(np.uint8), {"steady": lab[..., 1:]})
            n += 1
        print(f"{Path(clip).name:<22}{n:>8}{warp.result()['steady']:>26.3f}")


if __name__ == "__main__":
    main()
