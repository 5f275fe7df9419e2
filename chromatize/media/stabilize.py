"""Temporal stabilizer: keeps a clip's colours steady by carrying each frame's a,b along the motion.

Per-frame colorization flickers: the same wall can turn from blue to grey and back as the
lightness around it shifts. The stabilizer works at the model's resolution, on its L input and
its a,b output, so it is model-agnostic and cheap (two DIS flows on ~256x192 frames):

1. Backward flow t -> t-1 and forward flow t-1 -> t with OpenCV's DIS optical flow on the L frames.
2. The previous OUTPUT a,b is warped to frame t along the backward flow.
3. Confidence per pixel, in [0, 1]: exp(-(fb / fb_tol)^2) * exp(-(dL / lum_tol)^2), where fb is
   the forward-backward mismatch in pixels (occlusions, flow failures) and dL the difference
   between L_t and the warped L_{t-1}; 0 where the flow leaves the frame.
4. Output a,b = w * warped + (1 - w) * prediction, with w = keep * confidence: a recursive average
   along motion trajectories (about 1 / (1 - keep) frames long) that falls back to the fresh
   prediction wherever the flow cannot be trusted. With ab_tol > 0 the confidence is also
   multiplied by exp(-(|prediction - warped| / ab_tol)^2), so that a large change of colour is
   followed at once instead of being averaged in (less lag, less smoothing).
5. Scene cuts reset it: when the L histograms of consecutive frames differ by more than
   `cut_threshold` (L1 distance of 32-bin histograms, in [0, 2]; shots.CutDetector, the one
   `chromatize shots` lists cuts with) the prediction passes unchanged.

Knobs: keep (0.86), fb_tol (1.5 px), lum_tol (8 L units), ab_tol (0 = off; ab units),
cut_threshold (0.5). The defaults were chosen on ../shared/data/video (BENCHMARKS.md): more keep
steadies more but lags behind real colour changes, which costs PSNR on a pan.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..color import AB_SCALE
from .shots import CUT_THRESHOLD, CutDetector, to_l8

TEMPORAL_MODES = ("off", "flow")


def _cv2():
    try:
        import cv2
    except ImportError as err:                          # pragma: no cover - a declared dependency
        raise RuntimeError("the flow stabilizer needs OpenCV: pip install opencv-python-headless") from err
    return cv2


@dataclass
class _Previous:
    l8: np.ndarray              # (h, w) uint8 L scaled to 0..255
    ab: np.ndarray              # (2, h, w) float32 output a,b (any units)


class FlowStabilizer:
    """Call once per frame, in order: stabilizer(l, ab) -> ab. l: (h, w) L in [0, 100];
    ab: (2, h, w) the model's a,b for that frame. reset() forgets the past (a new clip); state()
    and restore() keep it across runs (a video resumed after a kill, video_parts.py)."""

    def __init__(self, *, keep: float = 0.86, fb_tol: float = 1.5, lum_tol: float = 8.0, ab_tol: float = 0.0,
                 cut_threshold: float = CUT_THRESHOLD):
        if not 0 <= keep < 1:
            raise ValueError(f"keep must be in [0, 1), got {keep}")
        self.keep, self.fb_tol, self.lum_tol, self.cut_threshold = keep, fb_tol, lum_tol, cut_threshold
        self.ab_tol = ab_tol
        cv2 = _cv2()
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self.knobs = {"keep": keep, "fb_tol": fb_tol, "lum_tol": lum_tol, "ab_tol": ab_tol,
                      "cut_threshold": cut_threshold}
        self._prev: _Previous | None = None
        self._cuts = CutDetector(cut_threshold)
        self.cuts = 0               # scene cuts seen (first frame excluded)
        self.last_confidence = 0.0  # mean confidence of the last frame (0 after a cut)

    def reset(self) -> None:
        self._prev = None
        self._cuts.reset()

    def state(self) -> dict[str, np.ndarray]:
        """What the next frame depends on: the last frame's L and output, and its histogram."""
        if self._prev is None:
            return {}
        return {"l8": self._prev.l8, "ab": self._prev.ab, "hist": self._cuts.hist}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self.reset()
        if state:
            self._prev = _Previous(state["l8"], state["ab"])
            self._cuts.hist, self._cuts.shape = state["hist"], state["l8"].shape

    def __call__(self, l: np.ndarray, ab: np.ndarray) -> np.ndarray:
        l8 = to_l8(l)
        ab = np.asarray(ab, dtype=np.float32)
        prev, self._prev = self._prev, None
        cut = self._cuts.cut(l8)
        if prev is None or cut:
            if prev is not None:
                self.cuts += 1
            self.last_confidence = 0.0
            out = ab
        else:
            confidence, warped = self.warp(l8, prev)
            if self.ab_tol:                                   # a big change is news, not flicker: follow it
                change = np.linalg.norm(ab - warped, axis=0) * AB_SCALE
                confidence = confidence * np.exp(-((change / self.ab_tol) ** 2))
            weight = self.keep * confidence
            out = weight * warped + (1 - weight) * ab
        self._prev = _Previous(l8, out)
        return out

    def warp(self, l8: np.ndarray, prev: _Previous) -> tuple[np.ndarray, np.ndarray]:
        """prev's a,b carried along the flow to this frame (2, h, w), and the (h, w) confidence
        that each carried pixel is the same surface."""
        cv2 = _cv2()
        h, w = l8.shape
        back = self._dis.calc(l8, prev.l8, None)                 # (h, w, 2): x + back(x) is in t-1
        fwd = self._dis.calc(prev.l8, l8, None)                  # (h, w, 2): t-1 -> t
        grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        map_x, map_y = grid_x + back[..., 0], grid_y + back[..., 1]
        remap = lambda img: cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        warped = np.stack([remap(c) for c in prev.ab])
        fb = np.linalg.norm(back + remap(fwd), axis=2)           # ~0 where the flows agree
        d_l = (l8.astype(np.float32) - remap(prev.l8).astype(np.float32)) / 2.55
        conf = np.exp(-(fb / self.fb_tol) ** 2) * np.exp(-(d_l / self.lum_tol) ** 2)
        inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        conf = np.where(inside, conf, 0.0).astype(np.float32)
        self.last_confidence = float(conf.mean())
        return conf, warped


def make_stabilizer(mode: str, **knobs) -> FlowStabilizer | None:
    if mode not in TEMPORAL_MODES:
        raise ValueError(f"temporal must be one of {', '.join(TEMPORAL_MODES)}, got {mode!r}")
    return FlowStabilizer(**knobs) if mode == "flow" else None


class PointTracker:
    """Carries point hints along the motion: each point moves by the DIS flow at its position on
    the model-size L frames, and is dropped when the forward and backward flows disagree there by
    more than `fb_tol` pixels (occluded, or a cut) or it leaves the frame. Positions stay in the
    frame's full-resolution pixels, as the user gave them."""

    def __init__(self, points: list, *, fb_tol: float = 1.5):
        self.points, self.fb_tol = list(points), fb_tol
        cv2 = _cv2()
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._prev: np.ndarray | None = None

    def step(self, l_small: np.ndarray, full: tuple[int, int]) -> list:
        """The points on this frame, given its (h, w) model-size L in [0, 100] and its full (H, W)."""
        l8 = to_l8(l_small)
        prev, self._prev = self._prev, l8
        if prev is None or prev.shape != l8.shape or not self.points:
            return self.points
        fwd = self._dis.calc(prev, l8, None)                     # (h, w, 2): t-1 -> t
        back = self._dis.calc(l8, prev, None)                    # (h, w, 2): t -> t-1
        (h, w), (height, width) = l8.shape, full
        sy, sx = h / height, w / width
        kept = []
        for p in self.points:
            x, y = min(int(p.x * sx), w - 1), min(int(p.y * sy), h - 1)
            nx, ny = x + fwd[y, x, 0], y + fwd[y, x, 1]
            if not (0 <= nx < w and 0 <= ny < h):
                continue
            bx, by = back[int(ny), int(nx)]
            if np.hypot(nx + bx - x, ny + by - y) > self.fb_tol:
                continue
            kept.append(p.at(p.x + fwd[y, x, 0] / sx, p.y + fwd[y, x, 1] / sy))
        self.points = kept
        return kept
