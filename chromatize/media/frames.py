"""Colorizing a sequence of same-size frames: batched through the model, then steadied.

Frames are (H, W, 3) RGB or (H, W) grey uint8 arrays; the model sees their L (a colour frame is
colorized from its L, like a photo). Video, animations and evaluate-video all go through here.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator

import numpy as np
import torch

from ..color import gray8_to_l, merge_l_ab, rgb8_to_l
from ..inference.points import as_points
from ..inference import Colorizer
from .stabilize import PointTracker, make_stabilizer


@dataclass
class Prediction:
    l_full: torch.Tensor        # (1, 1, H, W) L of the frame at full resolution
    l_small: np.ndarray         # (h, w) the L the model saw
    ab: np.ndarray              # (2, h, w) the model's ab_norm


def frames_lightness(frames: list[np.ndarray]) -> torch.Tensor:
    """Same-size (H, W, 3) RGB or (H, W) grey uint8 frames -> (B, 1, H, W) L."""
    stack = np.stack(frames)
    return gray8_to_l(stack) if stack.ndim == 3 else rgb8_to_l(stack)


def predictions(colorizer: Colorizer, frames: Iterable[np.ndarray], *, hints=None,
                reference=None) -> Iterator[Prediction]:
    """The model's output for every frame, computed `colorizer.batch_size` frames at a time.
    hints: point hints given on the first frame, carried along the motion to the next frames
    (stabilize.PointTracker); reference: a photo for every frame (see inference)."""
    frames = iter(frames)
    palette = colorizer.reference_hint(reference) if reference is not None else None
    tracker = PointTracker(as_points(hints)) if hints else None
    while chunk := list(islice(frames, colorizer.batch_size)):
        l_full = frames_lightness(chunk)
        hints_in = {"reference": palette} if palette is not None else {}
        if tracker:
            small = colorizer.model_input(l_full)                              # (B, 1, h, w), resized once
            hints_in.update(points=_tracked_maps(colorizer, tracker, l_full, small), small=small)
        l_small, ab = colorizer.predict_frames(l_full, **hints_in)
        for i in range(len(chunk)):
            yield Prediction(l_full[i:i + 1], l_small[i, 0].numpy(), ab[i].numpy())


def _tracked_maps(colorizer: Colorizer, tracker: PointTracker, l_full: torch.Tensor,
                  small: torch.Tensor) -> torch.Tensor:
    """(B, 3, h, w) hint maps of a chunk of frames (small: the (B, 1, h, w) L the model sees), the
    points carried along the motion frame by frame."""
    full = tuple(l_full.shape[-2:])
    maps = []
    for i in range(len(l_full)):
        points = tracker.step(small[i, 0].numpy(), full)
        m = colorizer.point_hints(l_full[i:i + 1], points)
        maps.append(m if m is not None else torch.zeros(1, 3, *small.shape[-2:]))
    return torch.cat(maps)


def compose(prediction: Prediction, ab: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB: the frame's own L with the (2, h, w) ab_norm upsampled onto it."""
    return merge_l_ab(prediction.l_full, torch.from_numpy(np.ascontiguousarray(ab))[None])


class FrameColorizer:
    """colorize(frames) yields one RGB frame per input frame, in order, with the temporal
    stabilizer `temporal` ('flow' or 'off'; see stabilize.py) between model and merge.
    Point hints are given on the first frame and carried along the motion (stabilize.PointTracker).
    A reference photo applies to every frame."""

    def __init__(self, colorizer: Colorizer, *, temporal: str = "flow", hints=None, reference=None, **knobs):
        self.colorizer = colorizer
        self.hints, self.reference = hints, reference
        self.stabilizer = make_stabilizer(temporal, **knobs)

    def reset(self) -> None:
        if self.stabilizer:
            self.stabilizer.reset()

    def colorize(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for pred in predictions(self.colorizer, frames, hints=self.hints, reference=self.reference):
            ab = self.stabilizer(pred.l_small, pred.ab) if self.stabilizer else pred.ab
            yield compose(pred, ab)
