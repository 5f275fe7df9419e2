"""Old-photo degradations, for training and for the old-photo benchmark.

    degrade_lab(lab, generator) with lab (B, 3, H, W) -> (B, 1, H, W) L in [0, 100], an old print's
    degrade_l(l, generator) with l (B, 1, H, W), L in [0, 100] -> the same shape, degraded.

An old print differs from the L of a colour photo twice over. First the film saw other colours
than the eye: plates before about 1930 were blue-sensitive or orthochromatic (blind to red), so
skies burn out white and skin, lips and red cloth print dark. `film_lightness` takes the
luminance with a random spectral weighting of linear R, G, B between the eye's (CIE Y) and an
orthochromatic plate's (0.02, 0.38, 0.60), the eye's kept a third of the time. Then the image
went through a camera, a print, the years and a scanner, in that order; each step below is
applied with its own probability (DEGRADATIONS; checked against the 24 genuine 1912 prints of the shared
data with benchmarks/old_print_stats.py: they keep a full range of tones, since whoever scanned
them set the levels, and show coarse grain, little blur and some vignetting):
    camera     blur       Gaussian blur, sigma 0.4-1.2 px at 256 px
               vignette   darkening towards the corners by 10-40 %
               halation   light spread around bright areas (glow of 10-40 % of the highlights,
                          sigma 2-8 px at 256 px)
    film       grain      Gaussian noise, sigma 1.5-6 L units, in cells of one pixel at 256 px
                          (coarser on larger images, so it survives their shrinking), half the
                          time clumped (blurred, rescaled)
    print      tone       the paper's characteristic curve: a toe and a shoulder (logistic, slope
                          4-10 around a pivot at 35-65 % grey), so shadows block up and
                          highlights burn out
    years      fade       lifted blacks (0-25 L) and lowered whites (75-100 L), gamma 0.8-1.25
               silvering  the silver mirror of aged prints: dark areas near the edges lifted by
                          10-40 L
               uneven     uneven exposure or staining: a smooth random field scaling L by 0.9-1.1
               scratches  1-5 thin bright or dark lines, and 5-40 dust specks
    scanner    levels     the scan's levels set: the 0.5 and 99.5 % points stretched to 0-4 and
                          96-100 L
               resample   down to 30-80 % of the size and back up (bilinear): lost resolution
               jpeg       JPEG at quality 25-70
Sizes in pixels are for a 256 px image and grow with the image's long side, so a print looks the
same to the model however large the scan. (Before this calibration every step had p 0.55 in a
random order, after "Bringing Old Photos Back to Life", Wan et al. 2020; BENCHMARKS.md keeps the
figures.)
Toning (sepia, selenium, cyan) needs nothing here: it changes a and b, and the model sees L alone.
The colour target stays clean: only the model's input is degraded.
"""
from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from PIL import Image

from .color import lab_to_rgb, luminance_to_l, srgb_to_linear

EYE = (0.2126, 0.7152, 0.0722)          # linear sRGB -> luminance Y
ORTHO = (0.02, 0.38, 0.60)              # an orthochromatic plate: blind to red
BASE_SIDE = 256                         # the image size the pixel sizes below are given for


def _uniform(lo: float, hi: float, g: torch.Generator | None) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))


def _scale(l: torch.Tensor) -> float:
    return max(1.0, max(l.shape[-2:]) / BASE_SIDE)


def _gaussian(l: torch.Tensor, sigma: float) -> torch.Tensor:
    k = 2 * int(3 * sigma) + 1
    return gaussian_blur2d(l, (k, k), (sigma, sigma), border_type="reflect")


def _blurred(l: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of sigma pixels at 256 px (sigma x the image's scale on larger ones; done at
    256 px and brought back up, which a smooth result allows)."""
    scale = _scale(l)
    if scale == 1:
        return _gaussian(l, sigma)
    small = _gaussian(F.interpolate(l, scale_factor=1 / scale, mode="area"), sigma)
    return F.interpolate(small, size=l.shape[-2:], mode="bilinear", align_corners=False)


def blur(l: torch.Tensor, g) -> torch.Tensor:
    return _gaussian(l, _uniform(0.4, 1.2, g) * _scale(l))


def vignette(l: torch.Tensor, g) -> torch.Tensor:
    h, w = l.shape[-2:]
    yy = torch.linspace(-1, 1, h)[:, None]
    xx = torch.linspace(-1, 1, w)[None, :]
    return l * (1 - _uniform(0.1, 0.4, g) * (xx**2 + yy**2) / 2)


def halation(l: torch.Tensor, g) -> torch.Tensor:
    glow = _blurred((l - 80).clamp_min(0), _uniform(2, 8, g))
    return l + glow * _uniform(0.1, 0.4, g) * 5


def grain(l: torch.Tensor, g) -> torch.Tensor:
    h, w = l.shape[-2:]
    cell = _scale(l)
    noise = torch.randn((*l.shape[:2], math.ceil(h / cell), math.ceil(w / cell)), generator=g)
    if torch.rand((), generator=g) < 0.5:                          # clumped film grain
        noise = F.avg_pool2d(noise, 3, stride=1, padding=1, count_include_pad=False) * 3
    if cell > 1:
        noise = F.interpolate(noise, size=(h, w), mode="bilinear", align_corners=False)
    return l + noise * _uniform(1.5, 6, g)


def tone(l: torch.Tensor, g) -> torch.Tensor:
    slope, pivot = _uniform(4, 10, g), _uniform(0.35, 0.65, g)
    lo, hi = torch.sigmoid(torch.tensor(-slope * pivot)), torch.sigmoid(torch.tensor(slope * (1 - pivot)))
    return 100 * (torch.sigmoid(slope * (l.clamp(0, 100) / 100 - pivot)) - lo) / (hi - lo)


def fade(l: torch.Tensor, g) -> torch.Tensor:
    lo, hi, gamma = _uniform(0, 25, g), _uniform(75, 100, g), _uniform(0.8, 1.25, g)
    return lo + (hi - lo) * (l.clamp(0, 100) / 100) ** gamma


def silvering(l: torch.Tensor, g) -> torch.Tensor:
    h, w = l.shape[-2:]
    edge = torch.minimum(torch.linspace(0, 1, h)[:, None].minimum(torch.linspace(1, 0, h)[:, None]),
                         torch.linspace(0, 1, w)[None, :].minimum(torch.linspace(1, 0, w)[None, :]))   # (H, W)
    reach = _uniform(0.1, 0.3, g)
    near_edge = (1 - edge / reach).clamp(0, 1) ** 2
    dark = (1 - l.clamp(0, 100) / 100) ** 2
    return l + _uniform(10, 40, g) * near_edge * dark


def uneven(l: torch.Tensor, g) -> torch.Tensor:
    field = torch.rand((1, 1, 4, 4), generator=g) * 2 - 1                       # (1, 1, 4, 4) in [-1, 1]
    field = F.interpolate(field, size=l.shape[-2:], mode="bicubic", align_corners=False)
    return l * (1 + _uniform(0.05, 0.1, g) * field)


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


def levels(l: torch.Tensor, g) -> torch.Tensor:
    black, white = _uniform(0, 4, g), _uniform(96, 100, g)
    flat = l.flatten(1)[:, ::max(1, l[0].numel() // 1_000_000)]                 # (B, <= 2M) a sample
    lo, hi = torch.quantile(flat, 0.005, dim=1), torch.quantile(flat, 0.995, dim=1)   # (B,)
    span = (hi - lo).clamp_min(1.0)
    return black + (l - lo.view(-1, 1, 1, 1)) * ((white - black) / span).view(-1, 1, 1, 1)


def resample(l: torch.Tensor, g) -> torch.Tensor:
    h, w = l.shape[-2:]
    scale = _uniform(0.3, 0.8, g)
    small = F.interpolate(l, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="bilinear",
                          antialias=True, align_corners=False)
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)


def jpeg(l: torch.Tensor, g) -> torch.Tensor:
    quality = int(_uniform(25, 70, g))
    out = torch.empty_like(l)
    for i in range(l.shape[0]):
        gray = Image.fromarray((l[i, 0].clamp(0, 100) * 2.55).round().byte().numpy(), "L")
        buffer = io.BytesIO()
        gray.save(buffer, "JPEG", quality=quality)
        out[i, 0] = torch.from_numpy(np.asarray(Image.open(buffer), dtype=np.float32) / 2.55)
    return out


# (step, probability) in the order the image met them: camera, film, print, years, scanner
DEGRADATIONS = ((blur, 0.3), (vignette, 0.5), (halation, 0.3), (grain, 0.85), (tone, 0.7), (fade, 0.4),
                (silvering, 0.25), (uneven, 0.4), (scratches, 0.4), (levels, 0.75), (resample, 0.3),
                (jpeg, 0.4))


def film_lightness(lab: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
    """(B, 3, H, W) Lab -> (B, 1, H, W) L of the luminance a film of random spectral sensitivity saw."""
    if torch.rand((), generator=g) < 1 / 3:
        return lab[:, :1]
    mix = _uniform(0, 1, g)
    return spectral_lightness(lab, [(1 - mix) * e + mix * o for e, o in zip(EYE, ORTHO)])


def spectral_lightness(lab: torch.Tensor, weights) -> torch.Tensor:
    """(B, 3, H, W) Lab -> (B, 1, H, W) L of the luminance under `weights` of linear R, G, B."""
    linear = srgb_to_linear(lab_to_rgb(lab))                                   # (B, 3, H, W) in [0, 1]
    y = torch.einsum("c,bchw->bhw", torch.tensor(weights, dtype=lab.dtype), linear)[:, None]   # (B, 1, H, W)
    return luminance_to_l(y)


def degrade_lab(lab: torch.Tensor, generator: torch.Generator | None = None, *, p: float | None = None) -> torch.Tensor:
    """(B, 3, H, W) Lab of colour photos -> (B, 1, H, W) L of old prints of them."""
    return degrade_l(film_lightness(lab, generator), generator, p=p)


def degrade_l(l: torch.Tensor, generator: torch.Generator | None = None, *, p: float | None = None) -> torch.Tensor:
    """(B, 1, H, W) L in [0, 100] -> degraded (one draw of steps and strengths for the batch);
    `p` replaces every step's own probability."""
    for step, p_step in DEGRADATIONS:
        if torch.rand((), generator=generator) < (p_step if p is None else p):
            l = step(l, generator)
    return l.clamp(0, 100)
