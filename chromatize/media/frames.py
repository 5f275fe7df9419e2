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
from ..inference import Colorizer
from .stabilize import make_stabilizer


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
    hints: point hints for the first frame; reference: a photo for every frame (see inference)."""
    frames = iter(frames)
    palette = colorizer.reference_hint(reference) if reference is not None else None
    first = True
    while chunk := list(islice(frames, colorizer.batch_size)):
        l_full = frames_lightness(chunk)
        points = None
        if first and hints:
            maps = colorizer.point_hints(l_full[:1], hints)                  # (1, 3, h, w)
            points = torch.cat((maps, torch.zeros(len(chunk) - 1, *maps.shape[1:])))
        first = False
        hints_in = {k: v for k, v in (("points", points), ("reference", palette)) if v is not None}
        l_small, ab = colorizer.predict_frames(l_full, **hints_in)
        for i in range(len(chunk)):
            yield Prediction(l_full[i:i + 1], l_small[i, 0].numpy(), ab[i].numpy())


def compose(prediction: Prediction, ab: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB: the frame's own L with the (2, h, w) ab_norm upsampled onto it."""
    return merge_l_ab(prediction.l_full, torch.from_numpy(np.ascontiguousarray(ab))[None])


class FrameColorizer:
    """colorize(frames) yields one RGB frame per input frame, in order, with the temporal
    stabilizer `temporal` ('flow' or 'off'; see stabilize.py) between model and merge.
    Point hints apply to the first frame; the stabilizer carries their colour along the motion.
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
