"""Chooses the knobs of what inference does with point hints (propagation.follow_points) on the tune
split: mean PSNR with N true-colour points (as `chromatize evaluate --hints N`) for each reach, edge
cost and favouring strength (0: the residual's propagation alone), beside the network alone.

    .venv/bin/python benchmarks/hint_propagation.py splits/tune.txt --root ../shared/data \
        [--model default] [--points 1 10] [--reach 1] [--edge 1] [--strength 0 10 30 100]

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

import chromatize.inference as inference  # noqa: E402
from chromatize.evaluation.photos import EvalOptions, evaluate, list_photos  # noqa: E402
from chromatize.propagation import follow_points  # noqa: E402


def score(colorizer, paths, points: list[int]) -> list[float]:
    return [evaluate(colorizer, paths, options=EvalOptions(hints=n), progress=False)[1]["psnr"] for n in points]


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
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    colorizer = inference.load(args.model, size=args.size, device="cpu")
    print(f"model {args.model}, {len(paths)} photos, size {args.size}; PSNR with " +
          ", ".join(f"{n} points" for n in args.points))
    colorizer.propagate = False
    print(f"{'reach':>6}{'edge':>6}{'favour':>7}" + "".join(f"{n:>8}pt" for n in args.points) + f"{'mean':>9}")
    alone = score(colorizer, paths, args.points)
    print(f"{'net alone':>19}" + "".join(f"{v:>10.2f}" for v in alone) + f"{sum(alone) / len(alone):>9.2f}", flush=True)
    colorizer.propagate = True
    best = None
    for reach, edge, strength in itertools.product(args.reach, args.edge, args.strength):
        inference.follow_points = functools.partial(follow_points, reach=reach, edge=edge, strength=strength)
        values = score(colorizer, paths, args.points)
        mean = sum(values) / len(values)
        print(f"{reach:>6g}{edge:>6g}{strength:>7g}" + "".join(f"{v:>10.2f}" for v in values) + f"{mean:>9.2f}",
              flush=True)
        best = max(best or (mean, reach, edge, strength), (mean, reach, edge, strength))
    print(f"best: reach {best[1]:g}, edge {best[2]:g}, favour {best[3]:g} (mean {best[0]:.2f} dB)")


if __name__ == "__main__":
    main()
