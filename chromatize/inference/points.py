"""The user's side of colour hints: points in the image's own pixels, colours as (r, g, b) or
"#rrggbb", hints files and the web page's JSON, and the point maps the network takes (their
encoding, and the reference palette's, is the contract of models/hint_inputs.py).

What inference does with points after the network is propagation.py's; training simulates them
from the truth (training/simulated_hints.py).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from ..color import normalize_ab, rgb_to_lab

HINT_KEYS = {"x", "y", "color"}   # what a hint entry of a file or of the page may say
USER_PATCH = 3               # a user's point covers this many model pixels square
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")






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
    points = as_points(hints)
    if path:
        try:
            text = Path(path).read_text()
        except FileNotFoundError:
            raise ValueError(f"{path}: hints file not found") from None
        except UnicodeDecodeError as err:
            raise ValueError(f'{path}: not a JSON list of {{"x", "y", "color"}} ({err})') from None
        points += points_from_json(text, source=str(path))
    return points


def points_from_json(entries: str | list, *, source: str = "hints") -> list[Point]:
    """A JSON list of {"x", "y", "color"} (text, or already parsed) -> Points: the one reader of
    hints files, the web page's points and its /colorize API. An entry that is not such an object,
    or that has a key besides them (a "frame" is not read yet: it would be taken as a first-frame
    point), is an error naming `source` and the entry."""
    try:
        entries = json.loads(entries) if isinstance(entries, str) else entries
        if not isinstance(entries, list):
            raise TypeError(f"a JSON {type(entries).__name__}, not a list")
        for entry in entries:
            if isinstance(entry, dict) and (unknown := sorted(set(entry) - HINT_KEYS)):
                raise ValueError(f"{source}: hint {json.dumps(entry)} has a key this version does not read: "
                                 f"{', '.join(unknown)} (it reads {', '.join(sorted(HINT_KEYS))})")
        return as_points([(e["x"], e["y"], e["color"]) for e in entries])
    except (json.JSONDecodeError, TypeError, KeyError) as err:
        raise ValueError(f'{source}: not a JSON list of {{"x", "y", "color"}} ({err})') from None
