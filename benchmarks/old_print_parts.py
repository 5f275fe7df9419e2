"""Which part of an old print costs the colour: each of degrade.py's steps alone, then all of them.

    .venv/bin/python benchmarks/old_print_parts.py .gpu/lists/tune.txt --root .gpu/eval \
        --model default [--limit 120] [--seed 0]

Per photo and per condition the model colorizes the damaged grey; its a,b go on the photo's clean L
and are scored against the photo (colour alone, as `chromatize evaluate --old-photos`). Conditions:
    clean        the photo's own L
    plate        the luminance an orthochromatic plate saw (blind to red), nothing else
    film         film_lightness as in training (a random mix of the eye's and the plate's response)
    STEP         one of degrade.py's damages (grain, blur, ...) at full probability on the clean L
    all          degrade_lab as `evaluate --old-photos` uses it
With --tones, what undoing the print's tone curve could give (its lightness remapped, order kept):
    all, own tones   to the photo's own L histogram (an oracle: the most a global fix can give)
    all, mean tones  to the mean histogram of the clean photos of the set (no oracle)
    clean, mean tones  the same remapping on the clean L (what it costs photos that are not old)
Printed: the mean colour PSNR per condition and its loss against clean, median over photos too.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize import degrade  # noqa: E402
from chromatize.color import lab_to_rgb, rgb8_to_l, rgb_to_lab  # noqa: E402
from chromatize.evaluation import metrics  # noqa: E402
from chromatize.evaluation.photos import list_photos, make_colorizer, with_lightness_of  # noqa: E402
from chromatize.images import open_image  # noqa: E402


QUANTILES = torch.linspace(0, 1, 257)


def matched(l: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) L remapped so that its histogram follows the quantile function `quantiles`."""
    flat = l.flatten()
    ranks = torch.empty_like(flat)
    ranks[flat.argsort()] = torch.linspace(0, 1, flat.numel())
    return torch.from_numpy(np.interp(ranks.numpy(), QUANTILES.numpy(), quantiles.numpy())).float().view_as(l)


def conditions() -> dict:
    table = {"clean": lambda lab, g: lab[:, :1], "plate": lambda lab, g: degrade.spectral_lightness(lab, degrade.ORTHO),
             "film": degrade.film_lightness}
    for step, _ in degrade.DEGRADATIONS:
        table[step.__name__] = lambda lab, g, step=step: step(lab[:, :1], g).clamp(0, 100)
    table["all"] = degrade.degrade_lab
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", help="a folder or a list file")
    parser.add_argument("--root")
    parser.add_argument("--model", default="default")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=0, help="every k-th photo, to keep this many")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tones", action="store_true", help="the tone-undoing conditions instead of the steps")
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    if args.limit and len(paths) > args.limit:
        paths = paths[::len(paths) // args.limit][:args.limit]
    colorizer = make_colorizer(args.model, size=args.size)
    table = conditions()
    if args.tones:
        l_of = lambda path: rgb8_to_l(np.asarray(open_image(path).convert("RGB"))[None]).flatten()   # noqa: E731
        mean = torch.stack([torch.quantile(l_of(p), QUANTILES) for p in paths]).mean(0)   # the set's mean histogram
        own = lambda lab: torch.quantile(lab[0, 0].flatten(), QUANTILES)           # noqa: E731
        table = {"clean": table["clean"], "all": table["all"],
                 "all, own tones": lambda lab, g: matched(degrade.degrade_lab(lab, g), own(lab)),
                 "all, mean tones": lambda lab, g: matched(degrade.degrade_lab(lab, g), mean),
                 "clean, mean tones": lambda lab, g: matched(lab[:, :1], mean)}
    scores: dict[str, list[float]] = {name: [] for name in table}
    for index, path in enumerate(paths):
        truth = np.asarray(open_image(path).convert("RGB"))
        lab = rgb_to_lab(torch.from_numpy(truth / 255.0).permute(2, 0, 1)[None]).float()     # (1, 3, H, W)
        for name, make in table.items():
            key = "all" if name.startswith("all") else name                  # the same print for each fix
            g = torch.Generator().manual_seed(zlib.crc32(f"{args.seed}/{index}/{key}".encode()))
            l = make(lab, g)
            grey = lab_to_rgb(torch.cat((l, torch.zeros_like(lab[:, 1:])), 1))[0, 0]
            seen = Image.fromarray((grey * 255).round().byte().numpy())
            pred = np.asarray(colorizer.colorize(seen).convert("RGB"))
            scores[name].append(metrics.psnr(with_lightness_of(truth, pred), truth))
        print(f"\r{index + 1}/{len(paths)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    clean = np.asarray(scores["clean"])
    print(f"{args.model} on {len(paths)} photos, colour alone")
    print(f"{'condition':<18}{'PSNR':>8}{'loss':>8}{'median loss':>13}")
    for name, values in scores.items():
        loss = clean - np.asarray(values)
        print(f"{name:<18}{statistics.fmean(values):>8.2f}{loss.mean():>8.2f}{np.median(loss):>13.2f}")


if __name__ == "__main__":
    main()
