"""sRGB <-> CIELAB (D65) on tensors, network normalisation, and the full-resolution merge.

Shapes and ranges used throughout:
    rgb: (B, 3, H, W) float in [0, 1]
    lab: (B, 3, H, W), L in [0, 100], a and b in about [-128, 127]
    l_norm: (B, 1, H, W) in [-1, 1]   (network input)
    ab_norm: (B, 2, H, W) in [-1, 1]  (network output, ab / 128)
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

AB_SCALE = 128.0
L_MAX = 100.0
# D65 reference white, 2 degree observer (the same as scikit-image's default).
_WHITE = (0.95047, 1.0, 1.08883)
_RGB_TO_XYZ = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_EPS = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0


def _matrix(rows, x: torch.Tensor) -> torch.Tensor:
    return torch.tensor(rows, device=x.device, dtype=x.dtype)


def _apply_matrix(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", m, x)


def srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    return torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).clamp_min(0) ** 2.4, rgb / 12.92)


def linear_to_srgb(lin: torch.Tensor) -> torch.Tensor:
    lin = lin.clamp(0, 1)
    return torch.where(lin > 0.0031308, 1.055 * lin.clamp_min(1e-12) ** (1 / 2.4) - 0.055, lin * 12.92)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [0, 1] -> (B, 3, H, W) Lab, L in [0, 100]."""
    _check_channels(rgb, 3, "rgb")
    xyz = _apply_matrix(_matrix(_RGB_TO_XYZ, rgb), srgb_to_linear(rgb))
    xyz = xyz / torch.tensor(_WHITE, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    f = torch.where(xyz > _EPS, xyz.clamp_min(1e-12) ** (1 / 3), (_KAPPA * xyz + 16) / 116)
    fx, fy, fz = f.unbind(1)
    return torch.stack((116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)), dim=1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) Lab -> (B, 3, H, W) sRGB clipped to [0, 1]."""
    _check_channels(lab, 3, "lab")
    l, a, b = lab.unbind(1)
    fy = (l + 16) / 116
    f = torch.stack((fy + a / 500, fy, fy - b / 200), dim=1)
    xyz = torch.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA)
    xyz = xyz * torch.tensor(_WHITE, device=lab.device, dtype=lab.dtype).view(1, 3, 1, 1)
    inverse = torch.linalg.inv(_matrix(_RGB_TO_XYZ, lab).double()).to(lab.dtype)
    return linear_to_srgb(_apply_matrix(inverse, xyz))


def gray_to_l(gray: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) grey sRGB value in [0, 1] -> L in [0, 100] (the L of the grey colour)."""
    _check_channels(gray, 1, "gray")
    return luminance_to_l(srgb_to_linear(gray))


def luminance_to_l(y: torch.Tensor) -> torch.Tensor:
    """Relative luminance Y in [0, 1] (white = 1) -> L in [0, 100], any shape."""
    f = torch.where(y > _EPS, y.clamp_min(1e-12) ** (1 / 3), (_KAPPA * y + 16) / 116)
    return 116 * f - 16


def l_to_gray(l: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) L in [0, 100] -> the grey sRGB value in [0, 1] of that lightness (gray_to_l's inverse)."""
    _check_channels(l, 1, "l")
    fy = (l + 16) / 116
    y = torch.where(fy**3 > _EPS, fy**3, l / _KAPPA)
    return linear_to_srgb(y)


def rgb8_to_l(rgb: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) uint8 sRGB -> (B, 1, H, W) float32 L, through per-channel lookup tables:
    the fast path for video frames (equal to rgb_to_lab's L up to float rounding)."""
    codes = torch.arange(256, dtype=torch.float64) / 255
    lut = srgb_to_linear(codes)[None] * torch.tensor(_RGB_TO_XYZ[1], dtype=torch.float64)[:, None]  # (3, 256)
    lut = lut.float()
    pixels = torch.from_numpy(rgb.astype(np.int32))                                    # (B, H, W, 3)
    y = lut[0][pixels[..., 0]] + lut[1][pixels[..., 1]] + lut[2][pixels[..., 2]]       # (B, H, W)
    f = torch.where(y > _EPS, y.clamp_min(1e-12) ** (1 / 3), (_KAPPA * y + 16) / 116)
    return (116 * f - 16)[:, None]


def gray8_to_l(gray: np.ndarray) -> torch.Tensor:
    """(B, H, W) uint8 grey -> (B, 1, H, W) float32 L (the L of that grey), by lookup table."""
    lut = gray_to_l((torch.arange(256, dtype=torch.float64) / 255).view(1, 1, 1, -1)).view(-1).float()
    return lut[torch.from_numpy(gray.astype(np.int32))][:, None]


def normalize_l(l: torch.Tensor) -> torch.Tensor:
    """L in [0, 100] -> [-1, 1]."""
    return l / (L_MAX / 2) - 1


def denormalize_l(l_norm: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> L in [0, 100]."""
    return (l_norm + 1) * (L_MAX / 2)


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    return ab / AB_SCALE


def denormalize_ab(ab_norm: torch.Tensor) -> torch.Tensor:
    return ab_norm * AB_SCALE


STRIP_PIXELS = 1 << 18       # pixels per strip when pasting colour: bounds the Lab -> RGB temporaries


def merge_l_ab(l_full: torch.Tensor, ab_norm_small: torch.Tensor, *, strip_pixels: int | None = None) -> np.ndarray:
    """Paste predicted colour onto the original lightness: (H, W, 3) uint8 sRGB (see merged_strips)."""
    h, w = l_full.shape[-2:]
    rgb = np.empty((h, w, 3), dtype=np.uint8)
    for top, strip in merged_strips(l_full, ab_norm_small, strip_pixels=strip_pixels):
        rgb[top:top + len(strip)] = strip
    return rgb


def merged_strips(l_full: torch.Tensor, ab_norm_small: torch.Tensor, *, strip_pixels: int | None = None,
                  bits: int = 8) -> Iterator[tuple[int, np.ndarray]]:
    """The colorized image a strip of rows at a time: yields (top row, (r, W, 3) uint8 sRGB), or
    uint16 with bits=16.

    l_full: (1, 1, H, W) L in [0, 100] at the input's full resolution.
    ab_norm_small: (1, 2, h, w) in [-1, 1] at model resolution, upsampled bilinearly to (H, W).
    The upsampling is separable: across to (h, W) once (small), then down a strip of about
    `strip_pixels` (STRIP_PIXELS) pixels at a time together with Lab -> RGB, so no full-size float copy of the
    colour is ever made: memory grows with the width, not the area.
    """
    h, w = l_full.shape[-2:]
    ab_wide = denormalize_ab(F.interpolate(ab_norm_small.to(l_full.dtype), size=(ab_norm_small.shape[-2], w),
                                           mode="bilinear", align_corners=False))   # (1, 2, h_small, W)
    strip_rows = max(8, (strip_pixels or STRIP_PIXELS) // max(w, 1))
    for top in range(0, h, strip_rows):
        rows = slice(top, min(top + strip_rows, h))
        ab = upsample_rows(ab_wide, rows, h)                                        # (1, 2, r, W)
        lab = torch.cat((l_full[..., rows, :].to(ab.dtype), ab), dim=1)            # (1, 3, r, W)
        strip = lab_to_rgb(lab)[0].permute(1, 2, 0)                                 # (r, W, 3)
        if bits == 16:
            yield top, (strip * 65535).round_().to(torch.int32).numpy().astype(np.uint16)
        else:
            yield top, (strip * 255).round_().to(torch.uint8).numpy()


def upsample_rows(x: torch.Tensor, rows: slice, height: int) -> torch.Tensor:
    """Rows `rows` of x (B, C, h, W) bilinearly resized to `height` rows, as F.interpolate(...,
    mode="bilinear", align_corners=False) computes them: (B, C, len(rows), W)."""
    h = x.shape[-2]
    y = ((torch.arange(rows.start, rows.stop, dtype=torch.float32) + 0.5) * (h / height) - 0.5).clamp_min(0)
    y0 = y.floor().long().clamp_max(h - 1)
    y1 = (y0 + 1).clamp_max(h - 1)
    weight = (y - y0).to(x.dtype)[:, None]                                       # (r, 1)
    top, bottom = x[..., y0, :], x[..., y1, :]
    return top + (bottom - top) * weight


def _check_channels(x: torch.Tensor, channels: int, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} must have shape (B, {channels}, H, W), got {tuple(x.shape)}")


def ab_bin_centers(*, step: int = 10, device=None, dtype=torch.float32) -> torch.Tensor:
    """Centres of the ab grid cells that sRGB colours reach: (Q, 2) in ab units.

    The grid has cells of `step` ab units centred on multiples of `step` (Zhang et al. 2016 use
    10, which gives a few hundred cells in gamut). Deterministic: sampled from a 33^3 sRGB cube.
    """
    levels = torch.linspace(0, 1, 33, dtype=torch.float64)
    cube = torch.stack(torch.meshgrid(levels, levels, levels, indexing="ij"), dim=0).reshape(1, 3, -1, 1)
    ab = rgb_to_lab(cube)[0, 1:, :, 0].T                      # (N, 2)
    cells = torch.unique(torch.round(ab / step), dim=0)       # (Q, 2) integer cell indices
    return (cells * step).to(device=device, dtype=dtype)
