"""Do degrade.py's old prints look like genuine ones? The same statistics of three sets side by side.

    .venv/bin/python benchmarks/old_print_stats.py --old ../shared/data/oldreal \
        --photos .gpu/lists/tune.txt --root .gpu/eval [--seed 0]

Sets: genuine old photos (their grey as it is), the colour photos' L (clean), and degrade.py's old
prints of the same colour photos (at their full size, seeded per photo, exactly as `chromatize
evaluate --old-photos`). Every image is then shrunk to 320 px on its long side. Per image, in L units (0-100):
    black, white   the 1st and 99th percentiles of L (fading lifts the one and lowers the other)
    burnt, blocked share of pixels at L >= 97 (about 247 of 255) and at L <= 3
    corners        mean L of the four corner patches (an eighth of each side) minus the centre's
                   (a vignette makes it negative; skies at the top make it positive)
    noise          robust sigma of L minus its 3x3 median (grain, dust)
    detail         mean |gradient| of L (blur and lost resolution lower it)
Printed: each statistic's median and quartiles per set.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import rgb8_to_l  # noqa: E402
from chromatize.evaluation.photos import degraded_gray, list_photos  # noqa: E402
from chromatize.images import find_images, open_image  # noqa: E402

SIDE = 320


def shrink(image: Image.Image) -> Image.Image:
    scale = SIDE / max(image.size)
    if scale >= 1:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BICUBIC)


def stats(l: np.ndarray) -> dict[str, float]:
    """(H, W) L in [0, 100] -> the statistics above."""
    h, w = l.shape
    ch, cw = max(1, h // 8), max(1, w // 8)
    corners = np.concatenate([l[:ch, :cw].ravel(), l[:ch, -cw:].ravel(), l[-ch:, :cw].ravel(), l[-ch:, -cw:].ravel()])
    centre = l[h // 2 - ch:h // 2 + ch, w // 2 - cw:w // 2 + cw]
    grey8 = Image.fromarray(np.clip(l * 2.55, 0, 255).round().astype(np.uint8))
    residual = l - np.asarray(grey8.filter(ImageFilter.MedianFilter(3)), dtype=np.float64) / 2.55
    gy, gx = np.gradient(l)
    return {"black": float(np.percentile(l, 1)), "white": float(np.percentile(l, 99)),
            "burnt": float((l >= 97).mean()), "blocked": float((l <= 3).mean()),
            "corners": float(corners.mean() - centre.mean()),
            "noise": float(1.4826 * np.median(np.abs(residual - np.median(residual)))),
            "detail": float(np.hypot(gx, gy).mean())}


def l_of(image: Image.Image) -> np.ndarray:
    """An image shrunk to SIDE -> (H, W) L."""
    return rgb8_to_l(np.asarray(shrink(image).convert("RGB"))[None])[0, 0].numpy()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", required=True, help="a folder of genuine old photos")
    parser.add_argument("--photos", required=True, help="colour photos: a folder or a list file")
    parser.add_argument("--root")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sets: dict[str, list[dict]] = {"genuine old": [], "clean L": [], "degrade.py": []}
    for path in find_images(Path(args.old)):
        sets["genuine old"].append(stats(l_of(open_image(path))))
    for index, path in enumerate(list_photos(args.photos, root=args.root)):
        truth = np.asarray(open_image(path).convert("RGB"))
        sets["clean L"].append(stats(l_of(Image.fromarray(truth))))
        old = degraded_gray(truth, seed=(args.seed, index))              # at full size, as evaluate does
        sets["degrade.py"].append(stats(l_of(Image.fromarray(old))))
    keys = list(sets["clean L"][0])
    print(f"{'statistic':<10}" + "".join(f"{name + f' ({len(rows)})':>26}" for name, rows in sets.items()))
    for key in keys:
        cells = []
        for rows in sets.values():
            q = np.percentile([r[key] for r in rows], [25, 50, 75])
            cells.append(f"{q[1]:.3f} [{q[0]:.3f}, {q[2]:.3f}]")
        print(f"{key:<10}" + "".join(f"{c:>26}" for c in cells))


if __name__ == "__main__":
    main()
