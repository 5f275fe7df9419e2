"""Faces on the grey input, and skin where the network left a face grey.

Most old photos show people, and a colorizer that is unsure of a face answers with the gamut's
centre: grey or a greenish grey. This step keeps the network's own choice of skin tone (light or
dark, pink or olive) but does not let a face leave the skin hues:
    1. find_faces: YuNet (chromatize/weights/face_detection_yunet_2023mar.onnx, MIT, through OpenCV's
       FaceDetectorYN) on the grey photo shrunk to at most DETECT_SIDE px; faces scoring at least
       MIN_SCORE. Each face is an ellipse centred between its eyes and mouth, FACE_RX x the box's
       width across and FACE_RY x its height down: the face and the top of the neck.
    2. skin_blend: there, every cell's predicted distribution over the ab bins is cut to the
       skin-like bins (chroma at least SKIN_CHROMA, hue SKIN_HUE: from pinkish to yellowish brown)
       and decoded by the same annealed mean; it is blended in with a weight that is 1 in the
       ellipse's inner half and falls to 0 at its edge, times the likeness of each pixel's L to the
       face's median L (Gaussian, L_SIGMA): skin turns, hair and a dark background do not.
Only photos (Colorizer.predict): video frames do not run it. Where a user's point falls in a face,
the face is left to the user. Measured in BENCHMARKS.md, "Skin"; the other way tried, a point of
the network's own skin colour given to it as a hint, spread a sepia wash over whole photos.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

DETECTOR = Path(__file__).resolve().parents[1] / "weights" / "face_detection_yunet_2023mar.onnx"
DETECT_SIDE = 640
MIN_SCORE = 0.6
FACE_RX, FACE_RY = 0.55, 0.75
EDGE = 0.5
L_SIGMA = 10.0
SKIN_CHROMA, SKIN_HUE = 15.0, (25.0, 80.0)   # a floor of 8 left old faces at chroma 15 (BENCHMARKS.md, "Skin")


@dataclass(frozen=True)
class Face:
    """An ellipse over a face, in fractions of the image's width and height."""
    cx: float
    cy: float
    rx: float
    ry: float

    def weight(self, h: int, w: int) -> torch.Tensor:
        """(h, w) in [0, 1]: 1 in the ellipse's inner half, falling to 0 at its edge."""
        ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
        xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w
        d = (((xs[None] - self.cx) / self.rx) ** 2 + ((ys[:, None] - self.cy) / self.ry) ** 2).sqrt()
        return ((1 - d) / EDGE).clamp(0, 1)

    def holds(self, x: float, y: float) -> bool:
        """Whether the point (fractions of width and height) lies in the ellipse."""
        return ((x - self.cx) / self.rx) ** 2 + ((y - self.cy) / self.ry) ** 2 <= 1


_DETECTING = threading.Lock()


@lru_cache(maxsize=1)
def _detector():
    import cv2

    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)   # no "targets not supported" warning per run
    try:
        detector = cv2.FaceDetectorYN.create(str(DETECTOR), "", (320, 320), MIN_SCORE, 0.3, 5000)
        detector.detect(np.zeros((320, 320, 3), np.uint8))              # the warning comes at the first run
        return detector
    finally:
        cv2.utils.logging.setLogLevel(level)


def detect(gray: np.ndarray) -> np.ndarray:
    """(H, W) uint8 grey photo -> (N, 15) YuNet rows in its pixels: box x, y, w, h; right eye,
    left eye, nose, right and left mouth corner (x, y each); score."""
    import cv2

    with _DETECTING:                                  # one detector, its input size set per call: one at a time
        detector = _detector()
        detector.setInputSize((gray.shape[1], gray.shape[0]))
        _, found = detector.detect(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    return found if found is not None else np.zeros((0, 15), np.float32)


def find_faces(gray: np.ndarray) -> list[Face]:
    """(H, W) uint8 grey photo -> the faces found on it (shrunk to at most DETECT_SIDE px first)."""
    import cv2

    height, width = gray.shape
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = cv2.resize(gray, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else gray
    faces = []
    for box_x, box_y, box_w, box_h, *marks in detect(small):
        eyes_y, mouth_y = (marks[1] + marks[3]) / 2, (marks[7] + marks[9]) / 2   # eyes 0-3, nose 4-5, mouth 6-9
        cx, cy = box_x + box_w / 2, (eyes_y + mouth_y) / 2
        faces.append(Face(float(cx / small.shape[1]), float(cy / small.shape[0]),
                          float(FACE_RX * box_w / small.shape[1]), float(FACE_RY * box_h / small.shape[0])))
    return faces


def skin_bins(centers: torch.Tensor) -> torch.Tensor:
    """(Q, 2) bin centres in ab_norm -> (Q,) bool: the skin-like bins."""
    ab = centers.float() * 128
    hue = torch.rad2deg(torch.atan2(ab[:, 1], ab[:, 0]))
    return (ab.norm(dim=1) >= SKIN_CHROMA) & (hue >= SKIN_HUE[0]) & (hue <= SKIN_HUE[1])


def skin_blend(logits: torch.Tensor, ab_norm: torch.Tensor, faces: list[list[Face]], centers: torch.Tensor, *,
               temperature: float, l: torch.Tensor) -> torch.Tensor:
    """(B, Q, h, w) logits, (B, 2, H, W) their decoded ab_norm, per image its faces, (B, 1, H, W) L
    -> (B, 2, H, W) with each face's skin decoded from the skin-like bins alone. The blend weight is
    the face's soft ellipse times the likeness of each pixel's L to the face's median L (Gaussian,
    L_SIGMA), so the skin of the face and of the neck below it turn, the hair and the dark
    background beside them do not."""
    out = ab_norm.clone()
    allowed = skin_bins(centers).to(logits.device)
    size = ab_norm.shape[-2:]
    for i, image_faces in enumerate(faces):
        if not image_faces:
            continue
        x = logits[i].float() / temperature                                          # (Q, h, w)
        x = x.masked_fill(~allowed[:, None, None], -math.inf)
        skin = torch.einsum("qhw,qc->chw", torch.softmax(x, dim=0), centers.float().to(x.device))   # (2, h, w)
        skin = torch.nn.functional.interpolate(skin[None], size=size, mode="bilinear",
                                               align_corners=False)[0].to(out.device)              # (2, H, W)
        li = l[i, 0].float().to(out.device)                                          # (H, W)
        weights = []
        for face in image_faces:
            ellipse = face.weight(*size).to(out.device)
            core = li[ellipse >= 0.999] if (ellipse >= 0.999).any() else li[ellipse > 0]
            face_l = core.median() if core.numel() else li.mean()
            weights.append(ellipse * torch.exp(-0.5 * ((li - face_l) / L_SIGMA) ** 2))
        weight = torch.stack(weights).amax(0)
        out[i] = out[i] + weight * (skin.to(out.dtype) - out[i])
    return out
