"""How much the network itself answers colour points, before any propagation: the mean squared
ab error (ab units^2, at the network's output size) on the first N photos of a list at 192 px,
with no points, with points simulated as in training (training/simulated_hints.py, seeded), with
every pixel hinted by its true colour (the ceiling of copying), and with the photo's own palette
as the reference (hints.reference_vector) and no points. A network that ignores its hint inputs
gives four equal numbers.

    .venv/bin/python benchmarks/hint_response.py splits/tune.txt --root ../shared/data --model runs/NAME/best.pt [--photos 32]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import normalize_ab, normalize_l, rgb_to_lab  # noqa: E402
from chromatize.evaluation.photos import list_photos  # noqa: E402
from chromatize.models.hint_inputs import reference_vector  # noqa: E402
from chromatize.models import load_model  # noqa: E402
from chromatize.training.simulated_hints import simulate_points  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("photos", help="a folder or a list file of photos")
    p.add_argument("--root", help="folder the list's relative paths start from")
    p.add_argument("--model", default="default")
    p.add_argument("--photos", type=int, default=32, dest="count")
    p.add_argument("--size", type=int, default=192)
    args = p.parse_args()
    torch.manual_seed(0)
    model = load_model(args.model).eval()
    paths = list_photos(args.photos, root=args.root)
    rgb = torch.stack([torch.from_numpy(np.asarray(Image.open(path).convert("RGB").resize((args.size, args.size), Image.BICUBIC)) / 255.0)
                       .permute(2, 0, 1).float() for path in paths[:args.count]])
    lab = rgb_to_lab(rgb)
    l_norm, ab = normalize_l(lab[:, :1]), normalize_ab(lab[:, 1:])
    own = reference_vector(ab, model.bin_centers)                        # each photo's own palette
    cases = {"no points": (None, None), "simulated points": (simulate_points(ab), None),
             "every pixel": (torch.cat((ab, torch.ones_like(ab[:, :1])), 1), None), "own palette": (None, own)}
    print(f"model {args.model}, {len(rgb)} photos at {args.size} px; mean squared ab error (ab units^2)")
    with torch.no_grad():
        for name, (points, reference) in cases.items():
            out = model.ab_norm(l_norm, points, reference)
            print(f"{name:18s} {(((out - ab) * 128) ** 2).mean().item():8.1f}")
    print(f"{'grey':18s} {((ab * 128) ** 2).mean().item():8.1f}")


if __name__ == "__main__":
    main()
