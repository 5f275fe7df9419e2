"""Chooses the knobs of what inference does with point hints (propagation.follow_points) on the tune
split: mean PSNR with N true-colour points (as `chromatize evaluate --hints N`) for each reach, edge
cost, favouring strength (0: the residual's propagation alone) and likeness scale (0: no fade),
beside the network alone; with --point-reach, also one point's reach as hint_points.py measures it
(the share of the pixels it moves by more than 10 ab units whose truth is near it, and the share
moved). --palette-favour S...: the strength with which a reference palette favours its bins
(propagation.favour_palette), scored by the photo itself as reference (PSNR, colourfulness) and by
the next photo's palette (Jensen-Shannon distance, as hint_points.py); the point sweep is then left out.

    .venv/bin/python benchmarks/hint_propagation.py splits/tune.txt --root ../shared/data \
        [--model default] [--points 1 10] [--reach 1] [--edge 1] [--strength 0 10 30 100] \
        [--likeness 0.5] [--point-reach] [--palette-favour 0 3 10 30 100]

Pick: the best mean over the point counts; then quote the test split once (hint_points.py).
"""
from __future__ import annotations

import argparse
import functools
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chromatize.inference as inference  # noqa: E402
import chromatize.propagation as propagation  # noqa: E402
from chromatize.evaluation.photos import EvalOptions, evaluate, list_photos  # noqa: E402
from hint_points import point_reach, reference_shift  # noqa: E402


def score(colorizer, paths, points: list[int]) -> list[float]:
    return [evaluate(colorizer, paths, options=EvalOptions(hints=n), progress=False)[1]["psnr"] for n in points]


def palette_sweep(colorizer, paths, strengths: list[float]) -> None:
    print(f"{'palette favour':>14}{'self PSNR':>11}{'colourf':>9}{'next photo JS':>15}")
    for strength in strengths:
        inference.favour_palette = functools.partial(propagation.favour_palette, strength=strength)
        own = evaluate(colorizer, paths, options=EvalOptions(reference="self"), progress=False)[1]
        without, with_ref = reference_shift(colorizer, paths)
        print(f"{strength:>14g}{own['psnr']:>11.2f}{own['colorfulness']:>9.1f}{with_ref:>9.4f} (none {without:.4f})",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos")
    parser.add_argument("--root")
    parser.add_argument("--model", default="default")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--points", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--reach", type=float, nargs="+", default=[1.0])
    parser.add_argument("--edge", type=float, nargs="+", default=[1.0])
    parser.add_argument("--strength", type=float, nargs="+", default=[0.0, 10.0, 30.0, 100.0])
    parser.add_argument("--likeness", type=float, nargs="+", default=[propagation.FAVOUR_LIKENESS])
    parser.add_argument("--point-reach", action="store_true", help="also measure one point's reach (slower)")
    parser.add_argument("--palette-favour", type=float, nargs="+", help="sweep the reference palette's favouring instead")
    args = parser.parse_args()
    follow_points = propagation.follow_points
    paths = list_photos(args.photos, root=args.root)
    colorizer = inference.load(args.model, size=args.size, device="cpu")
    if args.palette_favour:
        palette_sweep(colorizer, paths, args.palette_favour)
        return
    print(f"model {args.model}, {len(paths)} photos, size {args.size}; PSNR with " +
          ", ".join(f"{n} points" for n in args.points))
    colorizer.propagate = False
    print(f"{'reach':>6}{'edge':>6}{'favour':>7}{'like':>6}" + "".join(f"{n:>8}pt" for n in args.points) +
          f"{'mean':>9}" + (f"{'right':>8}{'moved':>8}" if args.point_reach else ""))
    alone = score(colorizer, paths, args.points)
    print(f"{'net alone':>25}" + "".join(f"{v:>10.2f}" for v in alone) + f"{sum(alone) / len(alone):>9.2f}", flush=True)
    colorizer.propagate = True
    best = None
    for reach, edge, strength, likeness in itertools.product(args.reach, args.edge, args.strength, args.likeness):
        propagation.FAVOUR_LIKENESS = likeness or float("inf")                 # 0: no fade
        inference.follow_points = functools.partial(follow_points, reach=reach, edge=edge, strength=strength)
        values = score(colorizer, paths, args.points)
        mean = sum(values) / len(values)
        right_moved = "".join(f"{v:>8.1%}" for v in point_reach(colorizer, paths)) if args.point_reach else ""
        print(f"{reach:>6g}{edge:>6g}{strength:>7g}{likeness:>6g}" + "".join(f"{v:>10.2f}" for v in values) +
              f"{mean:>9.2f}" + right_moved, flush=True)
        best = max(best or (mean, reach, edge, strength, likeness), (mean, reach, edge, strength, likeness))
    print(f"best: reach {best[1]:g}, edge {best[2]:g}, favour {best[3]:g}, likeness {best[4]:g} "
          f"(mean {best[0]:.2f} dB)")


if __name__ == "__main__":
    main()
