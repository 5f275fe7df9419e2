"""Skin, measured: the colour models give the faces of a photo, against its truth or, for genuine old
photos without one, against what skin looks like.

    .venv/bin/python benchmarks/faces.py splits/test.txt --root ../shared/data --group people \
        --model default --model runs/prev_default.safetensors [--grid docs/people_grid.jpg]
    .venv/bin/python benchmarks/faces.py ../shared/data/oldreal --no-truth --model default ... [--grid ...]

Faces are found on the grey input (the photo's L as grey, or the old photo itself), at its own
size, by the package's YuNet (chromatize/inference/faces.py, detect: OpenCV's FaceDetectorYN, score >= 0.6). The skin patch of a face is the box from its eyes down to its mouth corners, between
the eyes (five landmarks YuNet gives): cheeks and nose, little hair, beard or background. Per face,
the mean a,b of the patch in the model's output and in the truth:
    ab error      distance between the two means (a,b units)
    chroma ratio  chroma of the output's mean / chroma of the truth's (1 = as colourful as the truth)
    skin-like     the output's mean has chroma >= 8 and hue 25-80 degrees (warm: from pinkish to
                  yellowish brown), the rule the issue's peer comparison used
Printed per model: faces, the medians of the three figures (ab error and chroma ratio only with
truth), the share of skin-like faces, the median face chroma, and the photos' mean colourfulness.
Photos of a list can be kept to one source group (--group, evaluation/photos.py's source_group).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import rgb_to_lab  # noqa: E402
from chromatize.evaluation import metrics  # noqa: E402
from chromatize.evaluation.photos import list_photos, make_colorizer, source_group  # noqa: E402
from chromatize.inference.faces import detect  # noqa: E402
from chromatize.images import open_image  # noqa: E402

SKIN_CHROMA, SKIN_HUE = 8.0, (25.0, 80.0)
GRID_HEIGHT = 240


def find_faces(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(H, W) uint8 grey -> skin patches (x0, y0, x1, y1) of the faces found, in pixels."""
    patches = []
    for face in detect(gray):                                                   # at the photo's own size
        (rx, ry), (lx, ly), _, (mrx, mry), (mlx, mly) = face[4:14].reshape(5, 2)   # eyes, nose, mouth corners
        x0, x1 = sorted((rx, lx))
        y0, y1 = (ry + ly) / 2 + 0.1 * (face[3]), (mry + mly) / 2
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            patches.append((int(x0), int(y0), int(math.ceil(x1)), int(math.ceil(y1))))
    return patches


def lab_of(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> (H, W, 3) float Lab."""
    return rgb_to_lab(torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255)[0].permute(1, 2, 0).numpy()


def patch_ab(lab: np.ndarray, patch: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = patch
    return lab[y0:y1, x0:x1, 1:].reshape(-1, 2).mean(0)


def skin_like(ab: np.ndarray) -> bool:
    hue = math.degrees(math.atan2(ab[1], ab[0]))
    return float(np.hypot(*ab)) >= SKIN_CHROMA and SKIN_HUE[0] <= hue <= SKIN_HUE[1]


def score(colorizer, photos: list[Path], *, truth: bool) -> tuple[dict, list]:
    """Per face figures over the photos; also the outputs of the photos with faces (for a grid)."""
    errors, ratios, chromas, skin, cf, outputs = [], [], [], [], [], []
    for path in photos:
        image = open_image(path).convert("RGB")
        rgb = np.asarray(image)
        gray = np.asarray(image.convert("L"))
        patches = find_faces(gray)
        out = np.asarray(colorizer.colorize(Image.fromarray(gray) if not truth else image).convert("RGB"))
        cf.append(metrics.colorfulness(out))
        if not patches:
            continue
        lab_out, lab_true = lab_of(out), lab_of(rgb) if truth else None
        for patch in patches:
            ab = patch_ab(lab_out, patch)
            chromas.append(float(np.hypot(*ab)))
            skin.append(skin_like(ab))
            if truth:
                ab_true = patch_ab(lab_true, patch)
                errors.append(float(np.hypot(*(ab - ab_true))))
                ratios.append(chromas[-1] / max(float(np.hypot(*ab_true)), 1e-6))
        outputs.append((path, out))
    median = lambda xs: statistics.median(xs) if xs else float("nan")
    return {"faces": len(chromas), "ab_error": median(errors), "chroma_ratio": median(ratios),
            "skin_like": sum(skin) / len(skin) if skin else float("nan"), "face_chroma": median(chromas),
            "colorfulness": statistics.fmean(cf)}, outputs


def grid(rows: list[list[np.ndarray]], path: Path) -> None:
    """Rows of images side by side, each scaled to GRID_HEIGHT, as one picture."""
    scaled = [[Image.fromarray(im).convert("RGB").resize((round(im.shape[1] * GRID_HEIGHT / im.shape[0]), GRID_HEIGHT))
               for im in row] for row in rows]
    width = max(sum(im.width for im in row) for row in scaled)
    sheet = Image.new("RGB", (width, GRID_HEIGHT * len(scaled)), "white")
    for r, row in enumerate(scaled):
        x = 0
        for im in row:
            sheet.paste(im, (x, r * GRID_HEIGHT))
            x += im.width
    sheet.save(path, quality=90)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", help="a folder or a list file")
    parser.add_argument("--root", help="folder the list's relative paths start from")
    parser.add_argument("--model", action="append", required=True, help="a model to score (repeatable)")
    parser.add_argument("--group", help="keep the photos of this source group (general, objects, food, people)")
    parser.add_argument("--no-truth", action="store_true", help="grey photos without colour truth (old photos)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--grid", help="write grey | each model | truth of the first --grid-rows photos with faces")
    parser.add_argument("--grid-rows", type=int, default=6)
    parser.add_argument("--skin", nargs="+", default=["on"], choices=["on", "off"],
                        help="the colorizer's skin step (chromatize/inference/faces.py): score each model with it on, off or both")
    parser.add_argument("--no-skin-for", action="append", default=[], metavar="MODEL",
                        help="score this --model without the skin step whatever --skin says (e.g. the default "
                             "before, as it shipped)")
    args = parser.parse_args()
    photos = list_photos(args.photos, root=args.root)
    if args.group:
        photos = [p for p in photos if source_group(p) == args.group]
    print(f"{len(photos)} photos{' without truth' if args.no_truth else ''}, size {args.size}")
    print(f"{'model':<40}{'faces':>6}{'ab err':>8}{'chroma ratio':>14}{'skin-like':>10}{'face chroma':>12}{'colourf':>9}")
    outputs = {}
    for model, skin in [(m, "off" if m in args.no_skin_for else s) for m in args.model for s in args.skin]:
        colorizer = make_colorizer(model, size=args.size)
        if hasattr(colorizer, "skin"):
            colorizer.skin = colorizer.skin and skin == "on"
        name = model if len(args.skin) == 1 or model == "gray" else f"{model} (skin {skin})"
        if name in outputs:
            continue
        figures, outputs[name] = score(colorizer, photos, truth=not args.no_truth)
        print(f"{name:<40}{figures['faces']:>6}{figures['ab_error']:>8.2f}{figures['chroma_ratio']:>14.2f}"
              f"{figures['skin_like']:>10.1%}{figures['face_chroma']:>12.2f}{figures['colorfulness']:>9.2f}", flush=True)
    if args.grid:
        first = next(iter(outputs.values()))[:args.grid_rows]
        rows = []
        for i, (path, _) in enumerate(first):
            image = open_image(path).convert("RGB")
            row = [np.asarray(image.convert("L"))] + [out[i][1] for out in outputs.values()]
            rows.append(row + ([] if args.no_truth else [np.asarray(image)]))
        grid(rows, Path(args.grid))


if __name__ == "__main__":
    main()
