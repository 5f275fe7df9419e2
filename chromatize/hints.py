"""Colour hints in the form the network takes them: point hints and a reference photo's palette.

    point hints: (B, 3, h, w) at model resolution: channels 0-1 the hinted ab_norm (0 elsewhere),
                 channel 2 the mask (1 where a hint is, 0 elsewhere), so "no hint" differs from
                 "the user chose grey" (ab 0, mask 1).
    reference:   (B, Q + 2) global hint: the reference's distribution over the model's Q ab bins
                 (pixels at 1/4 resolution, each counted in its nearest bin), its mean chroma
                 (ab_norm units), and a "present" flag (0 and an all-zero vector when absent).

Users give points in their image's own pixels and colours as (r, g, b) or "#rrggbb" (Point,
read_hints); training simulates both from the truth (training/simulated_hints.py); what inference
does with them after the network is propagation.py's.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .color import normalize_ab, rgb_to_lab

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


def read_hints(texts: list[str], path: str | Path | None = None) -> list[Point]:
    """Command-line hints: "X,Y,COLOR" strings and a JSON file of [{"x", "y", "color"}, ...] ->
    Points; a bad one is an error naming it."""
    hints = []
    for text in texts:
        parts = text.split(",")
        if len(parts) != 3:
            raise ValueError(f"--hint {text!r}: expected X,Y,#rrggbb")
        hints.append(tuple(parts))
    if path:
        try:
            entries = json.loads(Path(path).read_text())
            hints += [(e["x"], e["y"], e["color"]) for e in entries]
        except FileNotFoundError:
            raise ValueError(f"{path}: hints file not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, KeyError) as err:
            raise ValueError(f'{path}: not a JSON list of {{"x", "y", "color"}} ({err})') from None
    return as_points(hints)
