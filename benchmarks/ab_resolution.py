"""What the decoder's output resolution can cost: the photos' own colour at the model's output sizes.

    .venv/bin/python benchmarks/ab_resolution.py splits/tune.txt --root ../shared/data [--size 256]

The default model sees a photo at --size px on the long side and answers at 1/4 of that; its a,b
are upsampled bilinearly onto the full-resolution L. Here an oracle does the same with the
photo's true a,b: area-averaged to 1/2, 1/4 and 1/8 of the model size, then pasted as the
model's answer is (color.merge_l_ab). Its PSNR is the most a perfect network could score at that
output scale; the gap between 1/4 and 1/2 bounds what a finer decoder could add.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import merge_l_ab, normalize_ab, rgb_to_lab  # noqa: E402
from chromatize.evaluation.photos import GrayBaseline, evaluate, format_table, list_photos  # noqa: E402
from chromatize.images import to_lightness  # noqa: E402

SCALES = (2, 4, 8)


class TrueColourAt:
    """Colorizer protocol of evaluation.photos: the photo's own a,b at (size / scale) px long side."""

    def __init__(self, *, size: int, scale: int):
        self.size, self.scale = size, scale

    def colorize(self, image: Image.Image, **_hints) -> Image.Image:
        rgb = torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1)[None].float() / 255
        lab = rgb_to_lab(rgb)                                                  # (1, 3, H, W)
        h, w = lab.shape[-2:]
        side = self.size / self.scale / max(h, w)
        small = (max(1, round(h * side)), max(1, round(w * side)))
        ab_small = F.interpolate(lab[:, 1:], size=small, mode="area")          # (1, 2, h, w)
        return Image.fromarray(merge_l_ab(to_lightness(image).l_full, normalize_ab(ab_small)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("photos", help="a folder or a list file")
    parser.add_argument("--root", help="folder the list's relative paths start from")
    parser.add_argument("--size", type=int, default=256, help="the model's long side (default 256)")
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    summaries = {"gray": evaluate(GrayBaseline(), paths, progress=False)[1]}
    for scale in SCALES:
        label = f"truth at 1/{scale}"
        summaries[label] = evaluate(TrueColourAt(size=args.size, scale=scale), paths, progress=False)[1]
    print(f"{len(paths)} photos, model size {args.size} px")
    print(format_table(summaries))


if __name__ == "__main__":
    main()
