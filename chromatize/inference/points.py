"""The user's side of colour hints: points in the image's own pixels, colours as (r, g, b) or
"#rrggbb", hints files and the web page's JSON, and the point maps the network takes (their
encoding, and the reference palette's, is the contract of models/hint_inputs.py).

On video and animations a point may name its keyframe (`frame`, counted from 0, or `time`, seconds
on the video's own clock) and a hints file may give reference photos per shot or time range
(ShotReference); media/keyframes.py carries them along the film.

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

HINT_KEYS = {"x", "y", "color", "frame", "time"}      # what a point entry of a file or of the page may say
REFERENCE_KEYS = {"reference", "shot", "from", "to"}  # what a reference entry of a hints file may say
USER_PATCH = 3               # a user's point covers this many model pixels square
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")
_KEYED = re.compile(r"(?:(?P<frame>\d+)|(?P<time>\d+(?:\.\d*)?|\.\d+)s):(?P<rest>.*)")


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
    """A user's hint: pixel (x, y) of the full-resolution image is colour (r, g, b); on a video
    or animation, on its keyframe: `frame` (0 = the first frame colorized) or `time` (seconds on
    the video's clock); neither means the first frame."""

    x: float
    y: float
    rgb: tuple[int, int, int]
    frame: int | None = None
    time: float | None = None

    @classmethod
    def make(cls, x, y, color, *, frame=None, time=None) -> "Point":
        try:
            x, y = float(x), float(y)
        except (TypeError, ValueError):
            raise ValueError(f"hint position ({x!r}, {y!r}) is not a pair of numbers") from None
        if frame is not None and time is not None:
            raise ValueError(f"hint at ({x:g}, {y:g}) names both a frame ({frame}) and a time ({time}): give one")
        if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int) or frame < 0):
            raise ValueError(f"hint at ({x:g}, {y:g}): frame {frame!r} is not a frame number (0, 1, 2, ...)")
        if time is not None and (isinstance(time, bool) or not isinstance(time, (int, float)) or time < 0):
            raise ValueError(f"hint at ({x:g}, {y:g}): time {time!r} is not a number of seconds >= 0")
        return cls(x, y, parse_color(color), frame, None if time is None else float(time))

    @property
    def keyframe(self) -> str:
        """Where the point was given, in words: "frame 240", "9.6 s" or "the first frame"."""
        if self.time is not None:
            return f"{self.time:g} s"
        return "the first frame" if not self.frame else f"frame {self.frame}"

    def at(self, x: float, y: float) -> "Point":
        """The same colour at another position (a point carried along the motion)."""
        return Point(float(x), float(y), self.rgb, self.frame, self.time)

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


@dataclass(frozen=True)
class ShotReference:
    """A reference photo for part of a video: shot number `shot` (from 1, as `chromatize shots`
    lists them) or the seconds [start, end) on the video's clock."""

    path: Path
    shot: int | None = None
    start: float | None = None
    end: float | None = None

    def covers(self, shot: int, seconds: float) -> bool:
        if self.shot is not None:
            return shot == self.shot
        return (self.start is None or seconds >= self.start - 1e-6) and (self.end is None or seconds < self.end)


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
    """Command-line hints and a hints file's points (see read_guidance); a reference entry in the
    file is an error here."""
    points, references = read_guidance(texts, path)
    if references:
        raise ValueError(f"{path}: reference entries apply to videos and animations")
    return points


def read_guidance(texts: list[str], path: str | Path | None = None) -> tuple[list[Point], list[ShotReference]]:
    """Command-line hints ("X,Y,COLOR", on a keyframe "FRAME:X,Y,COLOR" or "SECONDSs:X,Y,COLOR")
    and a JSON hints file -> its points and its references per shot (a reference's path is taken
    from the file's folder); a bad entry is an error naming it."""
    points = [_hint_flag(text) for text in texts]
    references = []
    if path:
        try:
            text = Path(path).read_text()
        except FileNotFoundError:
            raise ValueError(f"{path}: hints file not found") from None
        except UnicodeDecodeError as err:
            raise ValueError(f'{path}: not a JSON list of {{"x", "y", "color"}} ({err})') from None
        entries = _json_list(text, str(path))
        references = [_reference(e, Path(path).parent, str(path)) for e in entries if _is_reference(e)]
        points += points_from_json([e for e in entries if not _is_reference(e)], source=str(path))
    return points, references


def _hint_flag(text: str) -> Point:
    keyed = _KEYED.fullmatch(text.strip())
    frame = int(keyed["frame"]) if keyed and keyed["frame"] else None
    time = float(keyed["time"]) if keyed and keyed["time"] else None
    parts = (keyed["rest"] if keyed else text).split(",")
    if len(parts) != 3 or (":" in text and not keyed):
        raise ValueError(f"--hint {text!r}: expected X,Y,#rrggbb (on a keyframe FRAME:X,Y,#rrggbb or "
                         f"SECONDSs:X,Y,#rrggbb)")
    try:
        return Point.make(*parts, frame=frame, time=time)
    except ValueError as err:
        raise ValueError(f"--hint {text!r}: {err}") from None


def points_from_json(entries: str | list, *, source: str = "hints") -> list[Point]:
    """A JSON list of {"x", "y", "color"} with an optional "frame" or "time" (text, or already
    parsed) -> Points: the one reader of hints files, the web page's points and its /colorize API.
    An entry that is not such an object, or that has a key besides them, is an error naming
    `source` and the entry."""
    entries = _json_list(entries, source)
    points = []
    for entry in entries:
        if not isinstance(entry, dict) or not {"x", "y", "color"} <= set(entry):
            raise ValueError(f'{source}: not a JSON list of {{"x", "y", "color"}} (entry {json.dumps(entry)})')
        if unknown := sorted(set(entry) - HINT_KEYS):
            raise ValueError(f"{source}: hint {json.dumps(entry)} has a key this version does not read: "
                             f"{', '.join(unknown)} (it reads {', '.join(sorted(HINT_KEYS))})")
        try:
            points.append(Point.make(entry["x"], entry["y"], entry["color"], frame=entry.get("frame"),
                                     time=entry.get("time")))
        except ValueError as err:
            raise ValueError(f"{source}: hint {json.dumps(entry)}: {err}") from None
    return points


def _json_list(entries: str | list, source: str) -> list:
    try:
        entries = json.loads(entries) if isinstance(entries, str) else entries
    except json.JSONDecodeError as err:
        raise ValueError(f'{source}: not a JSON list of {{"x", "y", "color"}} ({err})') from None
    if not isinstance(entries, list):
        raise ValueError(f'{source}: not a JSON list of {{"x", "y", "color"}} (a JSON {type(entries).__name__})')
    return entries


def _is_reference(entry) -> bool:
    return isinstance(entry, dict) and "reference" in entry


def _reference(entry: dict, folder: Path, source: str) -> ShotReference:
    """{"reference": PHOTO, "shot": N} or {"reference": PHOTO, "from": S, "to": S} -> ShotReference."""
    where = f"{source}: reference {json.dumps(entry)}"
    if unknown := sorted(set(entry) - REFERENCE_KEYS):
        raise ValueError(f"{where} has a key this version does not read: {', '.join(unknown)} "
                         f"(it reads {', '.join(sorted(REFERENCE_KEYS))})")
    shot, start, end = entry.get("shot"), entry.get("from"), entry.get("to")
    if shot is not None and (start is not None or end is not None):
        raise ValueError(f"{where}: give a shot or a time range, not both")
    if shot is not None and (isinstance(shot, bool) or not isinstance(shot, int) or shot < 1):
        raise ValueError(f"{where}: shot must be a shot number (1, 2, ...; see chromatize shots)")
    for value in (start, end):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"{where}: from and to are seconds >= 0")
    if start is not None and end is not None and end <= start:
        raise ValueError(f"{where}: to must be after from")
    if not isinstance(entry["reference"], str) or not entry["reference"]:
        raise ValueError(f"{where}: reference must name a photo file")
    path = folder / entry["reference"]
    if not path.is_file():
        raise ValueError(f"{where}: {path} is not a file")
    return ShotReference(path, shot, None if start is None else float(start), None if end is None else float(end))
