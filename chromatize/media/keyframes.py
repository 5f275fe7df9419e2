"""Keyframe hints and references per shot: which points and which reference each frame gets.

A point given on frame k (or at a time, which names the frame shown then) is carried along the
motion forward to the end of k's shot and backward to its start (stabilize.PointTracker on the
L the model sees, frame by frame, dropped where the flow fails); points from several keyframes on
one frame all count. A point without a keyframe is on frame 0. A reference entry applies to the
frames of its shot or time range; the last entry that covers a frame wins, and frames no entry
covers take the run's --reference (if any).

plan_frames makes the FramePlan in one pass over the frames' small L before colorizing (video.py
decodes the film twice when there are keyframes or shot references, the first time only up to the
end of the last shot with a point, unless references per shot need every frame; an animation's
frames are in memory). The frames of a shot that holds a keyframe are spooled to a temporary file at model size
(about 50 KB a frame), so memory does not grow with a long shot.
"""
from __future__ import annotations

import json
import tempfile
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ..images import ImageError
from ..inference.points import Point, ShotReference
from .shots import CUT_THRESHOLD, CutDetector, Shot, to_l8
from .stabilize import PointTracker


class KeyframeError(ImageError, ValueError):
    """A keyframe or point the clip does not have; the message names the clip and the point."""


@dataclass
class FramePlan:
    shots: list[Shot]           # the shots the plan passed over (it stops once every point is carried)
    points: dict[int, list[Point]] = field(default_factory=dict)       # frame -> its points, full-size pixels
    references: list[tuple[int, str | None]] = field(default_factory=list)   # (first frame, photo) runs

    def points_at(self, index: int) -> list[Point]:
        return self.points.get(index, [])

    def reference_at(self, index: int) -> str | None:
        """The photo for this frame's reference (None: the run's own, if any)."""
        run = bisect_right([first for first, _ in self.references], index) - 1
        return self.references[run][1] if run >= 0 else None

    def to_json(self) -> str:
        return json.dumps({"shots": [s.as_dict() for s in self.shots],
                           "points": {str(i): [[p.x, p.y, list(p.rgb)] for p in ps] for i, ps in self.points.items()},
                           "references": self.references})

    @classmethod
    def from_json(cls, text: str) -> "FramePlan":
        data = json.loads(text)
        shots = [Shot(s["shot"], s["first_frame"], s["time"], s["frames"]) for s in data["shots"]]
        points = {int(i): [Point(x, y, tuple(rgb)) for x, y, rgb in ps] for i, ps in data["points"].items()}
        return cls(shots, points, [tuple(r) for r in data["references"]])


def needs_plan(points: list[Point], references: list[ShotReference]) -> bool:
    return bool(points or references)


def plan_frames(smalls: Iterable[tuple[np.ndarray, float, tuple[int, int]]], points: list[Point],
                references: list[ShotReference] = (), *, name: str = "video",
                threshold: float = CUT_THRESHOLD) -> FramePlan:
    """smalls: for each frame in order, its (h, w) L in [0, 100] at model size, its seconds on the
    video's clock and its full (H, W). A keyframe outside the frames, or a point outside its
    frame, is an error naming `name` and the point."""
    planner = _Planner(points, references, threshold, name)
    for l_small, seconds, full in smalls:
        planner.add(to_l8(l_small), float(seconds), tuple(full))
        if planner.settled:                         # every point carried, no references: the rest needs none
            break
    return planner.finish()


class _Planner:
    def __init__(self, points, references, threshold, name):
        self.references, self.name = list(references), name
        self.full = (0, 0)                          # the current shot's frame size
        self.waiting = list(points)                 # keyframe not reached yet
        self.placed: list[tuple[int, Point]] = []   # (keyframe, point), not carried yet
        self.plan = FramePlan([])
        self.detector = CutDetector(threshold)
        self.spool: _Spool | None = None
        self.index, self.seconds = -1, []           # frames seen; the last two frames' seconds
        self.first_seconds = 0.0
        self.shot_first, self.shot_seconds = 0, 0.0
        self._ref_now: str | None = None

    def add(self, l8: np.ndarray, seconds: float, full: tuple[int, int]) -> None:
        self.index += 1
        self.first_seconds = seconds if self.index == 0 else self.first_seconds
        self._place_times(seconds)
        if self.detector.first(l8):
            self._close_shot()
            self.shot_first, self.shot_seconds, self.full = self.index, seconds, full
            self.spool = _Spool(l8.shape) if self.waiting else None
        self._place_frames()
        self._reference(seconds)
        if self.spool is not None:
            self.spool.append(l8)
        self.seconds = [*self.seconds[-1:], seconds]

    @property
    def settled(self) -> bool:
        return not (self.waiting or self.placed or self.references) and self.index > 0

    def _place_times(self, seconds: float) -> None:
        """A time's keyframe is the last frame shown at or before it: known once a later frame comes."""
        for p in [p for p in self.waiting if p.time is not None and p.time < seconds - 1e-6]:
            self.waiting.remove(p)
            if self.index == 0:
                raise KeyframeError(f"{self.name}: the hint at ({p.x:g}, {p.y:g}) on {p.keyframe} is before its "
                                 f"first frame ({seconds:g} s)")
            self.placed.append((self.index - 1, p))

    def _place_frames(self) -> None:
        for p in [p for p in self.waiting if p.time is None and (p.frame or 0) == self.index]:
            self.waiting.remove(p)
            self.placed.append((self.index, p))

    def _reference(self, seconds: float) -> None:
        shot = len(self.plan.shots) + 1
        chosen = next((str(r.path) for r in reversed(self.references) if r.covers(shot, seconds)), None)
        if chosen != self._ref_now or not self.plan.references:
            self.plan.references.append((self.index, chosen))
            self._ref_now = chosen

    def _close_shot(self) -> None:
        """The shot that ends before this frame: listed, and its keyframe points carried over it."""
        if self.index == 0:
            return
        self.plan.shots.append(Shot(len(self.plan.shots) + 1, self.shot_first, self.shot_seconds,
                                    self.index - self.shot_first))
        for key, point in self.placed:
            self._carry(key, point, self.index)
        self.placed = []

    def _carry(self, key: int, point: Point, end: int) -> None:
        """The point on its keyframe and carried forward to `end` and back to the shot's first frame."""
        height, width = self.full
        if not (0 <= point.x < width and 0 <= point.y < height):
            raise KeyframeError(f"{self.name}: the hint at ({point.x:g}, {point.y:g}) on {point.keyframe} is outside "
                             f"the {width}x{height} frame")
        self._put(key, point)
        for frames in (range(key + 1, end), range(key - 1, self.shot_first - 1, -1)):
            tracker = PointTracker([point])
            tracker.step(self.spool.get(key - self.shot_first) / 2.55, self.full)
            for i in frames:
                moved = tracker.step(self.spool.get(i - self.shot_first) / 2.55, self.full)
                if not moved:
                    break
                self._put(i, moved[0])

    def _put(self, index: int, point: Point) -> None:
        self.plan.points.setdefault(index, []).append(Point(point.x, point.y, point.rgb))

    def finish(self) -> FramePlan:
        """Close the last shot; a keyframe past the end is an error naming the point."""
        if self.index < 0:
            raise KeyframeError(f"{self.name}: no frames")
        last = self.seconds[-1]
        period = self.seconds[-1] - self.seconds[0] if len(self.seconds) == 2 else 1.0
        for p in [p for p in self.waiting if p.time is not None and p.time < last + period - 1e-6]:
            self.waiting.remove(p)
            self.placed.append((self.index, p))       # shown until the end
        if self.waiting:
            p = self.waiting[0]
            what = f"its {self.index + 1} frames (0-{self.index})" if p.time is None else \
                f"its frames ({self.first_seconds:g}-{last + period:g} s)"
            raise KeyframeError(f"{self.name}: the hint at ({p.x:g}, {p.y:g}) on {p.keyframe} is outside {what}")
        self.index += 1
        self._close_shot()
        return self.plan


class _Spool:
    """Same-size uint8 frames appended to a temporary file, read back by number."""

    def __init__(self, shape: tuple[int, int]):
        self.shape, self.file = shape, tempfile.TemporaryFile()
        self.count = 0

    def append(self, l8: np.ndarray) -> None:
        self.file.seek(self.count * l8.size)
        self.file.write(np.ascontiguousarray(l8).tobytes())
        self.count += 1

    def get(self, i: int) -> np.ndarray:
        size = self.shape[0] * self.shape[1]
        self.file.seek(i * size)
        return np.frombuffer(self.file.read(size), dtype=np.uint8).reshape(self.shape).astype(np.float32)
