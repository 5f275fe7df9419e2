"""What inference does with colour hints after the network has run, and a reference's statistics.

Point hints, in three steps on cells of PROPAGATE_STRIDE model pixels (one cell per logit of the
default models):
    regions     geodesic distances from each hinted cell over the L image (a step costs its length
                plus `edge` per L unit crossed, so regions end at edges); each cell's weight for
                each point is a soft geodesic Voronoi share (PROPAGATE_BORDER cells of blend where
                two regions meet) faded by exp(-(d / reach)^2), `reach` a share of the long side.
    favour      (classifiers) each cell's predicted colour distribution is multiplied by
                1 + FAVOUR_STRENGTH * sum_n weight_n * like_n * K_n(bin), K_n a Gaussian of
                FAVOUR_WIDTH ab units around point n's colour, like_n = exp(-(d / FAVOUR_LIKENESS)^2)
                with d the total-variation distance between the cell's distribution and the point
                cell's (the same kind of thing, as the network sees it): where the network thought
                the point's colour likely, the point settles it; where it thought it unlikely, or
                sees something else, little changes. Decoded as usual.
    propagate   what the decode still misses at each point (hint - prediction) is spread by the
                same weights and added (Levin et al. 2004 spread colour along similar lightness;
                here only the residual is spread).
Knobs chosen on the tune split (benchmarks/hint_propagation.py; BENCHMARKS.md, "Hints that choose
among the network's colours"): favouring added 0.39 dB at 1 point and 0.70 at 10 there.
A reference photo: its palette favours its bins in every cell before the decode (favour_palette,
PALETTE_FAVOUR chosen on tune: the photo itself as reference +0.51 dB there, and another photo's
palette followed more closely), and its colour statistics are pulled in after it
(steer_to_reference). The hints themselves are encoded in models/hint_inputs.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..color import AB_SCALE

PROPAGATE_STRIDE = 4         # regions are made on cells of this many model pixels square
PROPAGATE_REACH = 1.0        # how far a point carries: share of the long side (geodesic)
PROPAGATE_EDGE = 1.0         # geodesic cost of a lightness step of 1 L unit, in cells
PROPAGATE_BORDER = 8.0       # cells over which two points' regions blend where they meet
FAVOUR_STRENGTH = 30.0       # how much a point raises its colour's bins in its region
FAVOUR_WIDTH = 10.0          # ab units: the spread of a point's colour over the bins (one bin step)
FAVOUR_LIKENESS = 0.5        # a cell's favour fades as exp(-(d / this)^2), d its distribution's distance from the point's
PALETTE_FAVOUR = 10.0        # how much a reference palette raises its bins everywhere (favour_palette)


@dataclass
class Regions:
    """One image's hinted cells and how much each cell belongs to each: seeds (N, 2) cell rows and
    columns, hint_ab (2, N) ab_norm, weights (N, h, w) in [0, 1]."""
    seeds: torch.Tensor
    hint_ab: torch.Tensor
    weights: torch.Tensor


def hint_regions(l: torch.Tensor, points: torch.Tensor, *, reach: float = PROPAGATE_REACH,
                 edge: float = PROPAGATE_EDGE) -> list[Regions | None]:
    """l (B, 1, H, W) L in [0, 100], points (B, 3, H, W) hint maps -> per image its Regions on
    cells of PROPAGATE_STRIDE pixels, or None where it has no point (or is smaller than a cell)."""
    s = PROPAGATE_STRIDE
    if min(l.shape[-2:]) < s:
        return [None] * l.shape[0]
    l_cells = F.avg_pool2d(l.float(), s)                                      # (B, 1, h, w)
    pooled = F.avg_pool2d(points.float(), s)
    share = pooled[:, 2:]
    hint_ab = pooled[:, :2] / share.clamp_min(1e-6)
    out = []
    for i in range(l.shape[0]):
        seeds = torch.nonzero(share[i, 0] > 0)                                # (N, 2) cells
        if len(seeds) == 0:
            out.append(None)
            continue
        dist = _geodesic(l_cells[i, 0], seeds, edge)                          # (N, h, w)
        nearest = dist.min(0).values                                          # (h, w)
        share_of = torch.softmax(-(dist - nearest) / PROPAGATE_BORDER, dim=0)  # (N, h, w): the nearest point leads
        fade = torch.exp(-(nearest / (max(l_cells.shape[-2:]) * reach)) ** 2)  # (h, w): nothing far from every point
        out.append(Regions(seeds, hint_ab[i][:, seeds[:, 0], seeds[:, 1]], share_of * fade))
    return out


def favour_hinted_colours(logits: torch.Tensor, regions: list[Regions | None], centers: torch.Tensor, *,
                          strength: float = FAVOUR_STRENGTH) -> torch.Tensor:
    """(B, Q, h, w) logits -> (B, Q, h, w) log-probabilities with each point's colour bins raised in
    its region (see the module's docstring); centers (Q, 2) bin centres in ab_norm."""
    log_probs = logits.float().log_softmax(1)
    out = []
    for lp, reg in zip(log_probs, regions):
        if reg is None:
            out.append(lp)
            continue
        dist2 = ((centers.float()[None] - reg.hint_ab.T.to(lp.device)[:, None]) ** 2).sum(-1)  # (N, Q)
        kernel = torch.exp(-dist2 * (AB_SCALE / FAVOUR_WIDTH) ** 2 / 2)                     # in ab units
        unlike = _unlike_seeds(_at(lp.exp(), reg.weights.shape[-2:]), reg.seeds)            # (N, h, w) on the cells
        weights = reg.weights.to(lp.device) * torch.exp(-(unlike / FAVOUR_LIKENESS) ** 2)
        weights = _at(weights, lp.shape[-2:])                                                # (N, h, w)
        out.append((lp + torch.log1p(strength * torch.einsum("nq,nhw->qhw", kernel, weights))).log_softmax(0))
    return torch.stack(out)


def propagate(ab: torch.Tensor, regions: list[Regions | None]) -> torch.Tensor:
    """(B, 2, H, W) predicted ab_norm -> the same with what it misses at each point (hint -
    prediction, on its cell) spread over the point's region. Returns ab_norm in [-1, 1]."""
    if all(reg is None for reg in regions):
        return ab
    ab_cells = F.avg_pool2d(ab.float(), PROPAGATE_STRIDE)
    out = []
    for cells, reg in zip(ab_cells, regions):
        if reg is None:
            out.append(torch.zeros_like(cells))
            continue
        residual = reg.hint_ab - cells[:, reg.seeds[:, 0], reg.seeds[:, 1]]                 # (2, N)
        out.append(torch.einsum("cn,nhw->chw", residual, reg.weights))
    correction = F.interpolate(torch.stack(out), size=ab.shape[-2:], mode="bilinear", align_corners=False)
    return (ab.float() + correction).clamp(-1, 1).to(ab.dtype)


def follow_points(out: torch.Tensor, l: torch.Tensor, points: torch.Tensor,
                  decode: Callable[[torch.Tensor], torch.Tensor], *, centers: torch.Tensor | None = None,
                  reach: float = PROPAGATE_REACH, edge: float = PROPAGATE_EDGE,
                  strength: float = FAVOUR_STRENGTH) -> torch.Tensor:
    """The network's raw output (B, C, h, w) for L (B, 1, H, W) and hint maps (B, 3, H, W) -> ab_norm
    (B, 2, H, W) that follows the points: favoured (when `centers` says the output is logits over
    those bins), decoded by `decode` (raw output -> ab_norm at (H, W)), then propagated."""
    regions = hint_regions(l, points, reach=reach, edge=edge)
    if centers is not None and strength:
        out = favour_hinted_colours(out, regions, centers, strength=strength)
    return propagate(decode(out), regions)


def favour_palette(logits: torch.Tensor, reference: torch.Tensor, *,
                   strength: float = PALETTE_FAVOUR) -> torch.Tensor:
    """(B, Q, h, w) logits, (B, Q + 2) reference palettes (hints.reference_vector) -> (B, Q, h, w)
    log-probabilities with every cell's distribution multiplied by 1 + strength x the palette's
    share of each bin (scaled so its largest bin is 1): the network's colours that the reference
    has win over those it lacks. Images whose palette is absent are left as they are."""
    hist = reference[:, :-2].float().to(logits.device)                                      # (B, Q)
    hist = hist / hist.amax(1, keepdim=True).clamp_min(1e-12)
    present = reference[:, -1].to(logits.device) > 0                                       # (B,)
    boost = torch.log1p(strength * hist * present[:, None])                                 # (B, Q)
    return (logits.float().log_softmax(1) + boost[..., None, None]).log_softmax(1)


def _unlike_seeds(probs: torch.Tensor, seeds: torch.Tensor) -> torch.Tensor:
    """(Q, h, w) colour distributions, (N, 2) seed cells -> (N, h, w) total-variation distance of
    each cell's distribution from each seed's, in [0, 1] (cdist: no (Q, N, h, w) difference)."""
    at_seeds = probs[:, seeds[:, 0], seeds[:, 1]]                                            # (Q, N)
    unlike = 0.5 * torch.cdist(probs.flatten(1).T[None], at_seeds.T[None], p=1)[0]          # (h * w, N)
    return unlike.T.reshape(-1, *probs.shape[1:])


def _at(x: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(C, h, w) -> (C, *shape), bilinear (the model's logits may sit on another grid than the cells)."""
    if tuple(x.shape[-2:]) == tuple(shape):
        return x
    return F.interpolate(x[None], size=shape, mode="bilinear", align_corners=False)[0]


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
