"""Colour hints in the form the network takes them: point hints and a reference photo's palette.

    point hints: (B, 3, h, w) at model resolution: channels 0-1 the hinted ab_norm (0 elsewhere),
                 channel 2 the mask (1 where a hint is, 0 elsewhere), so "no hint" differs from
                 "the user chose grey" (ab 0, mask 1).
    reference:   (B, Q + 2) global hint: the reference's distribution over the model's Q ab bins
                 (pixels at 1/4 resolution, each counted in its nearest bin), its mean chroma
                 (ab_norm units), and a "present" flag (0 and an all-zero vector when absent).

Training simulates both from the truth (Zhang et al. 2017): the number of points is geometric
with p = 1/8 (so about 1 image in 8 gets none, 7 points on average), positions uniform over the
image, each point the mean ab of a 1x1 to 9x9 patch of the truth written over that patch; the
reference is the truth's own palette for `reference_p` of the images, absent otherwise.
Users give points in their image's own pixels and colours as (r, g, b) or "#rrggbb".
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .color import normalize_ab, rgb_to_lab

POINT_P = 1 / 8              # geometric parameter of the number of simulated points
MAX_PATCH = 9                # simulated points cover a patch of 1..MAX_PATCH pixels square
USER_PATCH = 3               # a user's point covers this many model pixels square
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


def reference_dim(n_bins: int) -> int:
    return n_bins + 2


def empty_points(batch: int, height: int, width: int, *, like: torch.Tensor) -> torch.Tensor:
    """(B, 3, h, w) zeros: no point hints."""
    return torch.zeros(batch, 3, height, width, device=like.device, dtype=like.dtype)


def empty_reference(batch: int, n_bins: int, *, like: torch.Tensor) -> torch.Tensor:
    """(B, Q + 2) zeros: no reference (present flag 0)."""
    return torch.zeros(batch, reference_dim(n_bins), device=like.device, dtype=like.dtype)


def reference_vector(ab_norm: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W) ab_norm of reference images, (Q, 2) bin centres -> (B, Q + 2) global hints."""
    ab = F.avg_pool2d(ab_norm.float(), 4) if min(ab_norm.shape[-2:]) >= 8 else ab_norm.float()
    pixels = ab.flatten(2).transpose(1, 2)                                   # (B, N, 2)
    nearest = torch.cdist(pixels, centers.float()[None]).argmin(-1)          # (B, N)
    hist = torch.zeros(ab.shape[0], centers.shape[0], device=ab.device)
    hist.scatter_add_(1, nearest, torch.ones_like(nearest, dtype=hist.dtype))
    hist = hist / pixels.shape[1]                                            # (B, Q)
    chroma = pixels.norm(dim=-1).mean(1, keepdim=True)                      # (B, 1)
    return torch.cat((hist, chroma, torch.ones_like(chroma)), dim=1)


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


def parse_color(color) -> tuple[int, int, int]:
    """'#rrggbb', 'rrggbb' or an (r, g, b) sequence of 0-255 ints -> (r, g, b)."""
    if isinstance(color, str):
        match = _HEX.fullmatch(color.strip())
        if not match:
            raise ValueError(f"colour {color!r} is not #rrggbb")
        value = match.group(1)
        return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))
    try:
        rgb = tuple(int(c) for c in color)
    except (TypeError, ValueError):
        raise ValueError(f"colour {color!r} is not #rrggbb or (r, g, b)") from None
    if len(rgb) != 3 or any(not 0 <= c <= 255 for c in rgb) or any(c != v for c, v in zip(rgb, color)):
        raise ValueError(f"colour {color!r} must be three integers 0-255 or #rrggbb")
    return rgb


@dataclass(frozen=True)
class Point:
    """A user's hint: pixel (x, y) of the full-resolution image is colour (r, g, b)."""

    x: float
    y: float
    rgb: tuple[int, int, int]

    @classmethod
    def make(cls, x, y, color) -> "Point":
        try:
            x, y = float(x), float(y)
        except (TypeError, ValueError):
            raise ValueError(f"hint position ({x!r}, {y!r}) is not a pair of numbers") from None
        return cls(x, y, parse_color(color))

    def ab_norm(self) -> torch.Tensor:
        """(2,) the ab_norm of this colour."""
        rgb = torch.tensor(self.rgb, dtype=torch.float32).view(1, 3, 1, 1) / 255
        return normalize_ab(rgb_to_lab(rgb)[0, 1:, 0, 0])


def as_points(hints) -> list[Point]:
    """[(x, y, colour), ...] or Points -> Points."""
    points = []
    for hint in hints or []:
        if isinstance(hint, Point):
            points.append(hint)
            continue
        try:
            x, y, color = hint
        except (TypeError, ValueError):
            raise ValueError(f"hint {hint!r} is not (x, y, colour)") from None
        points.append(Point.make(x, y, color))
    return points


def check_inside(points: list[Point], width: int, height: int, name: str = "image") -> None:
    for p in points:
        if not (0 <= p.x < width and 0 <= p.y < height):
            raise ValueError(f"hint at ({p.x:g}, {p.y:g}) is outside the {width}x{height} {name}")


def point_maps(points: list[Point], full: tuple[int, int], small: tuple[int, int], *,
               patch: int = USER_PATCH) -> torch.Tensor:
    """Points in full-resolution pixels (full = (H, W)) -> (1, 3, h, w) hints at model resolution."""
    (height, width), (h, w) = full, small
    maps = torch.zeros(1, 3, h, w)
    for p in points:
        cy, cx = int(p.y * h / height), int(p.x * w / width)
        rows = slice(max(0, cy - patch // 2), min(h, cy + patch // 2 + 1))
        cols = slice(max(0, cx - patch // 2), min(w, cx + patch // 2 + 1))
        maps[0, :2, rows, cols] = p.ab_norm()[:, None, None]
        maps[0, 2, rows, cols] = 1
    return maps


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
