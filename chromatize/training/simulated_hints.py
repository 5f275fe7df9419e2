"""Hints simulated from the truth for training (Zhang et al. 2017): the number of points is
geometric with p = 1/8 (so about 1 image in 8 gets none, 7 points on average), positions uniform
over the image, each point the mean ab of a 1x1 to 9x9 patch of the truth written over that patch,
in the point-map encoding of hints.py. (The reference, the truth's own palette for some images,
is made in data.py with hints.reference_vector.)
"""
from __future__ import annotations

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
