"""Colorizing a sequence of same-size frames: batched through the model, then steadied.

Frames are (H, W, 3) RGB or (H, W) grey uint8 arrays; the model sees their L (a colour frame is
colorized from its L, like a photo) at its size, or at their own when they are smaller (rounded up
to the network's stride). Each frame's points and reference come from the keyframe plan
(keyframes.py). Video, animations and evaluate-video all go through here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import torch

from ..color import gray8_to_l, merge_l_ab, rgb8_to_l
from ..inference import Colorizer
from ..inference.points import ShotReference, as_points, point_maps
from .keyframes import FramePlan, needs_plan, plan_frames
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


def predictions(colorizer: Colorizer, frames: Iterable[np.ndarray], *, plan: FramePlan | None = None,
                reference=None, first: int = 0) -> Iterator[Prediction]:
    """The model's output for every frame, computed `colorizer.batch_size` frames at a time, each
    frame at the model's size or, when smaller, at its own (rounded up to the network's stride).
    plan: the points and references per frame (keyframes.plan_frames), frames counted from `first`;
    reference: a photo (or palette) for the frames the plan gives none."""
    palettes = {None: colorizer.reference_hint(reference) if reference is not None else None}

    def palette(index: int):
        path = plan.reference_at(index) if plan else None
        if path not in palettes:
            palettes[path] = colorizer.reference_hint(path)
        return palettes[path]

    def key(index: int) -> tuple:
        """Frames batched together share their reference and whether they have points (a frame
        without points takes the path it takes in a run without any)."""
        return id(palette(index)), bool(plan and plan.points_at(index))

    for start, chunk in _chunks(frames, first, colorizer.batch_size, key=key):
        l_full = frames_lightness(chunk)
        small = colorizer.model_input(l_full, upscale=False)                  # (B, 1, h, w), resized once
        hints_in = {"reference": palette(start), "small": small}
        if plan and any(plan.points_at(i) for i in range(start, start + len(chunk))):
            hints_in["points"] = _point_maps(plan, start, l_full, small)
        l_small, ab = colorizer.predict_frames(l_full, **hints_in)
        for i in range(len(chunk)):
            yield Prediction(l_full[i:i + 1], l_small[i, 0].numpy(), ab[i].numpy())


def _chunks(frames: Iterable[np.ndarray], first: int, size: int, *, key) -> Iterator[tuple[int, list]]:
    """(first index, frames) batches of at most `size` frames that share key(index)."""
    chunk, start, start_key = [], first, None
    for index, frame in enumerate(frames, first):
        this = key(index)
        if chunk and (len(chunk) == size or this != start_key):
            yield start, chunk
            chunk, start = [], index
        if not chunk:
            start_key = this
        chunk.append(frame)
    if chunk:
        yield start, chunk


def _point_maps(plan: FramePlan, start: int, l_full: torch.Tensor, small: torch.Tensor) -> torch.Tensor:
    """(B, 3, h, w) hint maps of a chunk of frames from the plan's points."""
    full = tuple(l_full.shape[-2:])
    maps = []
    for i in range(len(l_full)):
        points = plan.points_at(start + i)
        shape = tuple(small.shape[-2:])
        maps.append(point_maps(points, full, shape) if points else torch.zeros(1, 3, *shape))
    return torch.cat(maps)


def compose(prediction: Prediction, ab: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB: the frame's own L with the (2, h, w) ab_norm upsampled onto it."""
    return merge_l_ab(prediction.l_full, torch.from_numpy(np.ascontiguousarray(ab))[None])


class FrameColorizer:
    """colorize(frames) yields one RGB frame per input frame, in order, with the temporal
    stabilizer `temporal` ('flow' or 'off'; see stabilize.py) between model and merge.
    Points (on the first frame, or on keyframes) are carried along the motion within their shot and
    references apply per shot as the plan says (keyframes.py): give `plan`, or hints and
    references and the frames are planned first. A `reference` photo applies to the other frames.
    One FrameColorizer plans one clip: make another for the next (reset() forgets only the
    stabilizer's past)."""

    def __init__(self, colorizer: Colorizer, *, temporal: str = "flow", hints=None, reference=None,
                 references: list[ShotReference] = (), plan: FramePlan | None = None, **knobs):
        self.colorizer = colorizer
        self.hints, self.reference, self.references, self.plan = as_points(hints), reference, list(references), plan
        if self.hints:
            colorizer.require_hints("colour hints")
        self.stabilizer = make_stabilizer(temporal, **knobs)

    @property
    def needs_plan(self) -> bool:
        return self.plan is None and needs_plan(self.hints, self.references)

    def make_plan(self, frames: Iterable[tuple[np.ndarray, float]], *, name: str = "frames") -> FramePlan:
        """Plan the hints and references over (frame, seconds) pairs, each frame seen at the size
        the model sees it."""
        return plan_frames(((self.small_l(f), s, f.shape[:2]) for f, s in frames), self.hints, self.references,
                           name=name)

    def small_l(self, frame: np.ndarray) -> np.ndarray:
        """(h, w) L in [0, 100] of one frame at the size the model sees it."""
        return self.colorizer.model_input(frames_lightness([frame]), upscale=False)[0, 0].numpy()

    def reset(self) -> None:
        if self.stabilizer:
            self.stabilizer.reset()

    def colorize(self, frames: Iterable[np.ndarray], *, first: int = 0) -> Iterator[np.ndarray]:
        """RGB frames out for frames in, counted from `first` (where a resumed video goes on)."""
        if self.needs_plan:
            frames = list(frames)
            self.plan = self.make_plan(zip(frames, range(len(frames))))
        for pred in predictions(self.colorizer, frames, plan=self.plan, reference=self.reference, first=first):
            ab = self.stabilizer(pred.l_small, pred.ab) if self.stabilizer else pred.ab
            yield compose(pred, ab)
