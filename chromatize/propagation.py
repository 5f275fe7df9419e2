"""What inference does with colour hints after the network has run: point hints' residuals are
spread over their regions (propagate), and a reference photo's colour statistics are pulled in
(steer_to_reference). The hints themselves are encoded in hints.py.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PROPAGATE_STRIDE = 4         # propagation runs on cells of this many model pixels square
PROPAGATE_REACH = 1.0        # how far a point's correction carries: share of the long side (geodesic)
PROPAGATE_EDGE = 1.0         # geodesic cost of a lightness step of 1 L unit, in cells
PROPAGATE_BORDER = 2.0       # cells over which two points' regions blend where they meet


def propagate(ab: torch.Tensor, l: torch.Tensor, points: torch.Tensor, *, reach: float = PROPAGATE_REACH,
              edge: float = PROPAGATE_EDGE) -> torch.Tensor:
    """Carry what the network did not follow of each point out to the point's region.

    ab (B, 2, H, W) predicted ab_norm; l (B, 1, H, W) L in [0, 100]; points (B, 3, H, W) hint maps.
    On cells of PROPAGATE_STRIDE pixels, geodesic distances from each hinted cell are taken over the
    L image (a step costs its length plus `edge` per unit of L crossed, so regions end at edges).
    Each cell takes the residual (hint - prediction) of its geodesically nearest point, blended
    with the next ones over PROPAGATE_BORDER cells (a soft geodesic Voronoi partition), faded by
    exp(-(d / reach)^2) with `reach` a share of the long side; the correction is upsampled and
    added. Levin et al. 2004 spread colour along similar lightness; here only the network's
    residual is spread. Knobs chosen on the tune split (benchmarks/hint_propagation.py; reach 2 and
    more scored up to 0.16 dB more there, but one point then tints nearly the whole photo).
    Returns (B, 2, H, W) ab_norm in [-1, 1].
    """
    s = PROPAGATE_STRIDE
    if points[:, 2].sum() == 0 or min(ab.shape[-2:]) < s:
        return ab
    l_cells = F.avg_pool2d(l.float(), s)                                      # (B, 1, h, w)
    ab_cells = F.avg_pool2d(ab.float(), s)
    pooled = F.avg_pool2d(points.float(), s)
    share = pooled[:, 2:]
    hint_ab = pooled[:, :2] / share.clamp_min(1e-6)
    out = []
    for i in range(ab.shape[0]):
        seeds = torch.nonzero(share[i, 0] > 0)                                # (N, 2) cells
        if len(seeds) == 0:
            out.append(torch.zeros_like(ab_cells[i]))
            continue
        dist = _geodesic(l_cells[i, 0], seeds, edge)                          # (N, h, w)
        cells = max(l_cells.shape[-2:]) * reach
        nearest = dist.min(0).values                                          # (h, w)
        share_of = torch.softmax(-(dist - nearest) / PROPAGATE_BORDER, dim=0)  # (N, h, w): the nearest point leads
        fade = torch.exp(-(nearest / cells) ** 2)                             # (h, w): nothing far from every point
        residual = (hint_ab[i][:, seeds[:, 0], seeds[:, 1]] - ab_cells[i][:, seeds[:, 0], seeds[:, 1]])  # (2, N)
        out.append(torch.einsum("cn,nhw->chw", residual, share_of) * fade)
    correction = F.interpolate(torch.stack(out), size=ab.shape[-2:], mode="bilinear", align_corners=False)
    return (ab.float() + correction).clamp(-1, 1).to(ab.dtype)


def _geodesic(l: torch.Tensor, seeds: torch.Tensor, edge: float, max_sweeps: int = 400) -> torch.Tensor:
    """(h, w) L, (N, 2) seed cells -> (N, h, w) geodesic distances (8-neighbour relaxation until
    nothing changes)."""
    n, (h, w) = len(seeds), l.shape
    dist = torch.full((n, h, w), float("inf"))
    dist[torch.arange(n), seeds[:, 0], seeds[:, 1]] = 0
    padded_l = F.pad(l[None, None], (1, 1, 1, 1), mode="replicate")[0, 0]
    steps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    costs = [math.hypot(dy, dx) + edge * (padded_l[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] - l).abs()
             for dy, dx in steps]                                             # cost of stepping from there to here
    for _ in range(max_sweeps):
        padded = F.pad(dist[None], (1, 1, 1, 1), value=float("inf"))[0]
        best = dist
        for (dy, dx), cost in zip(steps, costs):
            best = torch.minimum(best, padded[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] + cost)
        if torch.equal(best, dist):
            break
        dist = best
    return dist


STEER_MAX_GAIN = 3.0         # a reference may widen the predicted colour spread at most this much


def steer_to_reference(ab: torch.Tensor, reference: torch.Tensor, centers: torch.Tensor, *,
                       strength: float = 1.0) -> torch.Tensor:
    """Move predicted colour towards a reference palette's statistics (Reinhard et al. 2001's
    colour transfer, on a and b): per image, the prediction's mean and spread of a and b become the
    reference's (read off its bin histogram), the spread's gain capped at STEER_MAX_GAIN.

    ab (B, 2, H, W) ab_norm; reference (B or 1, Q + 2) palettes (present flag last); centers (Q, 2)
    bin centres in ab_norm; strength 0 = unchanged, 1 = the full transfer. Images whose palette is
    absent are left alone.
    """
    hist = reference[:, :-2].float()                                           # (B, Q)
    present = reference[:, -1:].float()                                        # (B, 1)
    weights = hist / hist.sum(1, keepdim=True).clamp_min(1e-12)
    ref_mean = weights @ centers.float()                                       # (B, 2)
    ref_std = (weights @ centers.float() ** 2 - ref_mean**2).clamp_min(0).sqrt()
    x = ab.float().flatten(2)                                                  # (B, 2, N)
    mean, std = x.mean(2), x.std(2)                                            # (B, 2)
    gain = (ref_std / std.clamp_min(1e-4)).clamp(max=STEER_MAX_GAIN)
    moved = (x - mean[..., None]) * gain[..., None] + ref_mean[..., None]
    alpha = (strength * present)[..., None]                                    # (B, 1, 1)
    out = x + alpha * (moved - x)
    return out.view_as(ab).clamp(-1, 1).to(ab.dtype)
