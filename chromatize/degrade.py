"""Old-photo degradations of the lightness, for training and for the old-photo benchmark.

    degrade_l(l, generator) with l (B, 1, H, W), L in [0, 100] -> the same shape, degraded.

After "Bringing Old Photos Back to Life" (Wan et al. 2020): each degradation is applied with
probability `p` (0.7), in a random order per image:
    grain     Gaussian noise, sigma 1-6 L units, half the time clumped (blurred, rescaled)
    blur      Gaussian blur, sigma 0.5-2 px
    resample  down to 25-70 % of the size and back up (bilinear): lost resolution
    jpeg      JPEG at quality 15-60
    fade      lifted blacks (0-25 L) and lowered whites (75-100 L), gamma 0.8-1.25
    scratches 1-5 thin bright or dark lines, and 5-40 dust specks
    vignette  darkening towards the corners by 20-60 %
Toning (sepia, cyan) needs nothing here: it changes a and b, and the model sees L alone.
The colour target stays clean: only the model's input is degraded.
"""
from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from PIL import Image

P_EACH = 0.7


def _uniform(lo: float, hi: float, g: torch.Generator | None) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))


def grain(l: torch.Tensor, g) -> torch.Tensor:
    noise = torch.randn(l.shape, generator=g)
    if torch.rand((), generator=g) < 0.5:                          # clumped film grain
        noise = F.avg_pool2d(noise, 3, stride=1, padding=1, count_include_pad=False) * 3
    return l + noise * _uniform(1, 6, g)


def blur(l: torch.Tensor, g) -> torch.Tensor:
    sigma = _uniform(0.5, 2.0, g)
    k = 2 * int(3 * sigma) + 1
    return gaussian_blur2d(l, (k, k), (sigma, sigma), border_type="reflect")


def resample(l: torch.Tensor, g) -> torch.Tensor:
    h, w = l.shape[-2:]
    scale = _uniform(0.25, 0.7, g)
    small = F.interpolate(l, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="bilinear",
                          antialias=True, align_corners=False)
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)


def jpeg(l: torch.Tensor, g) -> torch.Tensor:
    quality = int(_uniform(15, 60, g))
    out = torch.empty_like(l)
    for i in range(l.shape[0]):
        gray = Image.fromarray((l[i, 0].clamp(0, 100) * 2.55).round().byte().numpy(), "L")
        buffer = io.BytesIO()
        gray.save(buffer, "JPEG", quality=quality)
        out[i, 0] = torch.from_numpy(np.asarray(Image.open(buffer), dtype=np.float32) / 2.55)
    return out


def fade(l: torch.Tensor, g) -> torch.Tensor:
    lo, hi, gamma = _uniform(0, 25, g), _uniform(75, 100, g), _uniform(0.8, 1.25, g)
    return lo + (hi - lo) * (l.clamp(0, 100) / 100) ** gamma


def scratches(l: torch.Tensor, g) -> torch.Tensor:
    b, _, h, w = l.shape
    out = l.clone()
    for _ in range(int(torch.randint(1, 6, (), generator=g))):
        x0, slope = int(torch.randint(0, w, (), generator=g)), _uniform(-0.2, 0.2, g)
        rows = torch.arange(h)
        cols = (x0 + slope * rows).round().long().clamp(0, w - 1)
        out[:, 0, rows, cols] = 95.0 if torch.rand((), generator=g) < 0.5 else 5.0
    for _ in range(int(torch.randint(5, 41, (), generator=g))):
        y, x = int(torch.randint(0, h, (), generator=g)), int(torch.randint(0, w, (), generator=g))
        r = int(torch.randint(0, 2, (), generator=g))
        out[:, 0, max(0, y - r):y + r + 1, max(0, x - r):x + r + 1] = 95.0 if torch.rand((), generator=g) < 0.5 else 5.0
    return out


def vignette(l: torch.Tensor, g) -> torch.Tensor:
    h, w = l.shape[-2:]
    yy = torch.linspace(-1, 1, h)[:, None]
    xx = torch.linspace(-1, 1, w)[None, :]
    return l * (1 - _uniform(0.2, 0.6, g) * (xx**2 + yy**2) / 2)


DEGRADATIONS = (grain, blur, resample, jpeg, fade, scratches, vignette)


def degrade_l(l: torch.Tensor, generator: torch.Generator | None = None, *, p: float = P_EACH) -> torch.Tensor:
    """(B, 1, H, W) L in [0, 100] -> degraded (one draw of order and strengths for the batch)."""
    order = torch.randperm(len(DEGRADATIONS), generator=generator)
    for i in order.tolist():
        if torch.rand((), generator=generator) < p:
            l = DEGRADATIONS[i](l, generator)
    return l.clamp(0, 100)
