"""Colour hints simulated from the truth: the one home of hint simulation.

    simulate_points   training (Zhang et al. 2017): the number of points is geometric with p = 1/8
                      (so about 1 image in 8 gets none, 7 points on average), positions uniform over
                      the image, each point the mean ab of a 1x1 to 9x9 patch of the truth written
                      over that patch, in the point-map encoding of models/hint_inputs.py
    user_points       evaluation (`chromatize evaluate --hints N`, benchmarks): N points as a user
                      gives them, (x, y, (r, g, b)) in the photo's own pixels, seeded
(The reference, the truth's own palette for some images, is made in data.py with
models.hint_inputs.reference_vector.)
"""
from __future__ import annotations

import random

import numpy as np
import torch

POINT_P = 1 / 8              # geometric parameter of the number of simulated points
MAX_PATCH = 9                # simulated points cover a patch of 1..MAX_PATCH pixels square


def simulate_points(ab_norm: torch.Tensor, generator: torch.Generator | None = None, *, p: float = POINT_P,
                    max_points: int = 64) -> torch.Tensor:
    """(B, 2, H, W) true ab_norm -> (B, 3, H, W) simulated point hints (see module docstring).
    generator None draws from torch's global generator."""
    b, _, h, w = ab_norm.shape
    points = torch.zeros(b, 3, h, w, dtype=ab_norm.dtype)
    counts = _geometric(b, p, generator)
    for i in range(b):
        for _ in range(min(int(counts[i]), max_points)):
            size = int(torch.randint(1, MAX_PATCH + 1, (1,), generator=generator))
            top = int(torch.randint(0, max(1, h - size + 1), (1,), generator=generator))
            left = int(torch.randint(0, max(1, w - size + 1), (1,), generator=generator))
            patch = (slice(top, top + size), slice(left, left + size))
            points[i, :2, patch[0], patch[1]] = ab_norm[i, :, patch[0], patch[1]].mean((1, 2))[:, None, None]
            points[i, 2, patch[0], patch[1]] = 1
    return points


def _geometric(n: int, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """n draws of the number of failures before the first success (P(0) = p)."""
    u = torch.rand(n, generator=generator, dtype=torch.float64).clamp_min(1e-12)
    return torch.floor(torch.log(u) / torch.log1p(torch.tensor(-p, dtype=torch.float64))).long()


def user_points(truth: np.ndarray, count: int, *, seed) -> list[tuple[int, int, tuple[int, int, int]]]:
    """`count` points at seeded random pixels of a (H, W, 3) uint8 truth, each the mean colour of
    the truth over a patch of about 1 % of the long side (3 pixels of a 256-px model input) around
    it: [(x, y, (r, g, b)), ...] (inference.points.as_points makes them Points)."""
    if count <= 0:
        return []
    rng = random.Random(str(seed))
    h, w = truth.shape[:2]
    half = max(1, round(max(h, w) * 1.5 / 256))
    points = []
    for _ in range(count):
        x, y = rng.randrange(w), rng.randrange(h)
        patch = truth[max(0, y - half):y + half + 1, max(0, x - half):x + half + 1].reshape(-1, 3)
        points.append((x, y, tuple(int(round(c)) for c in patch.mean(0))))
    return points
