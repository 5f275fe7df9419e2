"""Shots: where a film cuts from one scene to the next, found the way colorizing finds them.

A cut is a frame whose L histogram (32 bins, at the size the model sees the frame) differs from
the previous frame's by more than `threshold` in L1 distance (in [0, 2]; 0.5 chosen on
../shared/data/video with the stabilizer, BENCHMARKS.md), or whose size differs. The stabilizer
(stabilize.py) resets there, keyframe points stop there (keyframes.py), and `chromatize shots`
lists them (list_shots).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

HIST_BINS = 32
CUT_THRESHOLD = 0.5


def to_l8(l_small: np.ndarray) -> np.ndarray:
    """(h, w) L in [0, 100] -> (h, w) uint8 in 0..255 (what flows and histograms are taken of)."""
    return np.clip(l_small * 2.55 + 0.5, 0, 255).astype(np.uint8)


class CutDetector:
    """cut(l8) -> True when this (h, w) uint8 L frame starts a new shot (never for the first)."""

    def __init__(self, threshold: float = CUT_THRESHOLD):
        self.threshold = threshold
        self.hist: np.ndarray | None = None       # the previous frame's normalised histogram
        self.shape: tuple | None = None

    def reset(self) -> None:
        self.hist = self.shape = None

    def cut(self, l8: np.ndarray) -> bool:
        hist = np.bincount(l8.ravel() // (256 // HIST_BINS), minlength=HIST_BINS) / l8.size
        prev, prev_shape = self.hist, self.shape
        self.hist, self.shape = hist, l8.shape
        return prev is not None and (prev_shape != l8.shape or np.abs(hist - prev).sum() > self.threshold)

    def first(self, l8: np.ndarray) -> bool:
        """As cut(), but True for the first frame too: does this frame start a shot?"""
        starts = self.hist is None
        return self.cut(l8) or starts


@dataclass(frozen=True)
class Shot:
    number: int             # from 1
    first: int              # its first frame, counted from 0
    seconds: float          # that frame's time on the video's clock
    frames: int = 0         # how many frames it has

    def as_dict(self) -> dict:
        return {"shot": self.number, "first_frame": self.first, "time": round(self.seconds, 6), "frames": self.frames}


def shot_table(shots: list[Shot], thumbnails: list[Path] | None = None) -> str:
    """The shots as a plain text table, one line a shot."""
    lines = [f"{'shot':>4}  {'first frame':>11}  {'time':>10}  {'frames':>6}" + ("  thumbnail" if thumbnails else "")]
    for i, shot in enumerate(shots):
        line = f"{shot.number:>4}  {shot.first:>11}  {_clock(shot.seconds):>10}  {shot.frames:>6}"
        lines.append(line + (f"  {thumbnails[i]}" if thumbnails else ""))
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:06.3f}"
