"""Colour hints measured like Zhang et al. 2017: PSNR against the number of true-colour points,
the photo itself as reference (the oracle), and a different photo as reference.

    .venv/bin/python benchmarks/hint_points.py splits/test.txt --root ../shared/data [--model default]
        [--points 0 1 2 5 10 20 50] [--seed 0] [--grid docs/hints_grid.png]

"net alone" is the network's own answer to the points; the PSNR columns after it add what inference
does with them after the network (propagation.follow_points: the points' colours favoured in their
regions, the residual propagated), as `colorize` does by default.
Points are revealed as in `chromatize evaluate --hints N`: N seeded random pixels per photo, each
the mean colour of the truth over a small patch. "kept" is the share of hinted pixels whose output
lies within 10 ab units of the hint. For a different reference, photo i gets photo i+1 of the list;
the table gives the distance (Jensen-Shannon, ab histograms over the model's bins) between the
output's colours and the reference's, without and with the reference: lower with = moved towards it.
"One point's reach" asks whether a true-colour point changes the right pixels: with one seeded
point per photo, of the pixels whose a,b move by more than MOVED ab units against the automatic
output, the share whose true colour lies within NEAR ab units of the hint (pooled over all photos;
the target is at least 70 %), and the moved pixels' share of the photo; network alone and with
what follows it ("with propagation").
The grid shows grey | automatic | 10 hints (points drawn as rings) | truth.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import normalize_ab, rgb_to_lab  # noqa: E402
from chromatize.evaluation.photos import EvalOptions, comparison_strip, evaluate, list_photos  # noqa: E402
from chromatize.inference.points import as_points  # noqa: E402
from chromatize.training.simulated_hints import user_points  # noqa: E402
from chromatize.models.hint_inputs import reference_vector  # noqa: E402
from chromatize.images import open_image  # noqa: E402
from chromatize.inference import load  # noqa: E402

MOVED, NEAR = 10.0, 20.0     # ab units: a pixel "moved" by a point; a true colour "near" the hint
ZHANG_2017 = {0: 24.43, 1: 25.37, 5: 27.39, 10: 28.42, 20: 29.34, 50: 30.42}     # ImageNet, their table


def palette(colorizer, rgb: np.ndarray) -> np.ndarray:
    lab = rgb_to_lab(torch.from_numpy(rgb / 255.0).permute(2, 0, 1)[None].float())
    return reference_vector(normalize_ab(lab[:, 1:]), colorizer.model.bin_centers.cpu())[0, :-2].numpy()


def js(p: np.ndarray, q: np.ndarray) -> float:
    m = (p + q) / 2
    kl = lambda a, b: float(np.sum(np.where(a > 0, a * np.log(np.maximum(a, 1e-12) / np.maximum(b, 1e-12)), 0)))
    return (kl(p, m) + kl(q, m)) / 2


def reference_shift(colorizer, paths: list[Path]) -> tuple[float, float]:
    """Mean JS distance of the output's colours to another photo's, without and with it as reference."""
    without, with_ref = [], []
    photos = [np.asarray(open_image(p).convert("RGB")) for p in paths]
    for i, truth in enumerate(photos):
        other = photos[(i + 1) % len(photos)]
        target = palette(colorizer, other)
        plain = np.asarray(colorizer.colorize(Image.fromarray(truth)))
        steered = np.asarray(colorizer.colorize(Image.fromarray(truth), reference=Image.fromarray(other)))
        without.append(js(palette(colorizer, plain), target))
        with_ref.append(js(palette(colorizer, steered), target))
    return float(np.mean(without)), float(np.mean(with_ref))


def _ab(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W, 2) a, b."""
    return rgb_to_lab(torch.from_numpy(rgb / 255.0).permute(2, 0, 1)[None].float())[0, 1:].permute(1, 2, 0).numpy()


def point_reach(colorizer, paths: list[Path], *, seed: int = 0) -> tuple[float, float]:
    """One true-colour point per photo: (share of moved pixels whose truth is near the hint,
    moved pixels' share of all pixels), pooled over the photos."""
    near = moved = total = 0
    for index, path in enumerate(paths):
        truth = np.asarray(open_image(path).convert("RGB"))
        [point] = as_points(user_points(truth, 1, seed=(seed, index)))
        auto = _ab(np.asarray(colorizer.colorize(Image.fromarray(truth))))
        hinted = _ab(np.asarray(colorizer.colorize(Image.fromarray(truth), hints=[point])))
        changed = np.hypot(*(hinted - auto).transpose(2, 0, 1)) > MOVED                # (H, W)
        hint_ab = point.ab_norm().numpy() * 128
        close = np.hypot(*(_ab(truth) - hint_ab).transpose(2, 0, 1)) <= NEAR
        near, moved, total = near + int((changed & close).sum()), moved + int(changed.sum()), total + changed.size
    return near / max(moved, 1), moved / max(total, 1)


def hint_grid(colorizer, paths: list[Path], out: Path, *, count: int = 10, rows: int = 4) -> None:
    samples = []
    for index, path in enumerate(paths[:rows]):
        truth = np.asarray(open_image(path).convert("RGB"))
        grey = np.asarray(Image.fromarray(truth).convert("L").convert("RGB"))
        hints = as_points(user_points(truth, count, seed=(0, index)))
        auto = np.asarray(colorizer.colorize(Image.fromarray(truth)))
        hinted = colorizer.colorize(Image.fromarray(truth), hints=hints)
        draw = ImageDraw.Draw(hinted)
        r = max(3, max(hinted.size) // 80)
        for p in hints:
            draw.ellipse((p.x - r, p.y - r, p.x + r, p.y + r), fill=p.rgb, outline=(255, 255, 255), width=1)
        samples.append((grey, auto, np.asarray(hinted), truth))
    out.parent.mkdir(parents=True, exist_ok=True)
    comparison_strip(samples).save(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", help="a folder or a list file (the test split)")
    parser.add_argument("--root", help="folder the list's relative paths start from")
    parser.add_argument("--model", default="default")
    parser.add_argument("--points", type=int, nargs="+", default=[0, 1, 2, 5, 10, 20, 50])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--grid", default=str(ROOT / "docs" / "hints_grid.png"))
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    colorizer = load(args.model, size=args.size, device="cpu")
    print(f"model {args.model}, {len(paths)} photos, size {args.size}")
    print(f"{'points':>7}{'net alone':>10}{'kept':>7}{'PSNR':>8}{'gain':>8}{'95% interval':>15}{'kept':>7}"
          f"{'Zhang 2017':>12}   (PSNR onwards: favoured and propagated after the network, the default)")
    base = None
    for n in args.points:
        options = EvalOptions(hints=n, hint_seed=args.seed)
        colorizer.propagate = False
        alone = evaluate(colorizer, paths, options=options, progress=False)[1] if n else None
        colorizer.propagate = True
        summary = evaluate(colorizer, paths, options=options, progress=False)[1]
        base = summary["psnr"] if base is None else base
        kept = lambda s: f"{s['hints_kept']:.3f}" if s and "hints_kept" in s else "-"
        zhang = f"{ZHANG_2017[n]:.2f}" if n in ZHANG_2017 else "-"
        net = f"{alone['psnr']:.2f}" if alone else f"{summary['psnr']:.2f}"
        print(f"{n:>7}{net:>10}{kept(alone):>7}{summary['psnr']:>8.2f}{summary['psnr'] - base:>+8.2f}"
              f"{summary['psnr_ci_low']:>7.2f}-{summary['psnr_ci_high']:<7.2f}{kept(summary):>7}{zhang:>12}",
              flush=True)
    for propagate in (False, True):
        colorizer.propagate = propagate
        share, extent = point_reach(colorizer, paths, seed=args.seed)
        print(f"one point's reach ({'with propagation' if propagate else 'network alone'}): {share:.1%} of the "
              f"pixels it moves by > {MOVED:g} ab have a true colour within {NEAR:g} of it; it moves "
              f"{extent:.1%} of the pixels", flush=True)
    oracle = evaluate(colorizer, paths, options=EvalOptions(reference="self"), progress=False)[1]
    print(f"reference = the photo itself: PSNR {oracle['psnr']:.2f} ({oracle['psnr'] - base:+.2f} dB)")
    without, with_ref = reference_shift(colorizer, paths)
    print(f"reference = the next photo: JS distance to its colours {without:.4f} without, {with_ref:.4f} with")
    hint_grid(colorizer, paths, Path(args.grid))
    print(f"grid: {args.grid}")


if __name__ == "__main__":
    main()
