"""Colourization quality metrics on 8-bit RGB arrays and Lab arrays (numpy, float64).

    rgb: (H, W, 3) uint8        lab: (H, W, 3) float, L in [0, 100]
"""
from __future__ import annotations

import numpy as np

AUC_MAX_T = 150          # ab-error thresholds 0..150 (Zhang et al. 2016)
AB_BIN = 10              # ab grid cell size for the class-rebalanced AuC


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over all RGB values (8-bit, peak 255)."""
    mse = np.mean((pred.astype(np.float64) - truth.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def _gaussian_kernel(sigma: float = 1.5, truncate: float = 3.5) -> np.ndarray:
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _filter_valid(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable filter without padding: (H, W) -> (H - n + 1, W - n + 1)."""
    n = len(k)
    rows = sum(k[i] * img[i:img.shape[0] - n + 1 + i] for i in range(n))
    return sum(k[i] * rows[:, i:rows.shape[1] - n + 1 + i] for i in range(n))


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean SSIM over RGB channels: Gaussian window (sigma 1.5), population covariance, data range
    255, border of the window radius left out (scikit-image's gaussian_weights=True setting)."""
    k = _gaussian_kernel()
    if min(pred.shape[:2]) < len(k):
        raise ValueError(f"SSIM needs images of at least {len(k)}x{len(k)} px, got {pred.shape[:2]}")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for ch in range(pred.shape[2]):
        x, y = pred[..., ch].astype(np.float64), truth[..., ch].astype(np.float64)
        mx, my = _filter_valid(x, k), _filter_valid(y, k)
        vx = _filter_valid(x * x, k) - mx**2
        vy = _filter_valid(y * y, k) - my**2
        cxy = _filter_valid(x * y, k) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        scores.append(s.mean())
    return float(np.mean(scores))


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference per pixel (Sharma, Wu & Dalal 2005); (..., 3) -> (...)."""
    l1, a1, b1 = np.moveaxis(lab1.astype(np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(lab2.astype(np.float64), -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    chroma_zero = c1p * c2p == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(chroma_zero, 0, dh)
    d_big_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) <= 180, h_sum / 2, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2))
    h_mean = np.where(chroma_zero, h_sum, h_mean)
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    d_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    dl, dc, dhh = (l2 - l1) / s_l, (c2p - c1p) / s_c, d_big_h / s_h
    return np.sqrt(dl**2 + dc**2 + dhh**2 + r_t * dc * dhh)


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness of 8-bit RGB: sigma_rgyb + 0.3 * mu_rgyb with
    rg = R - G and yb = (R + G) / 2 - B (the variant in the CT2 / DDColor evaluation code)."""
    r, g, b = np.moveaxis(rgb.astype(np.float64), -1, 0)
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


class AucAccumulator:
    """Area under the curve of 'fraction of pixels with ab error <= t', t = 0..150, in [0, 1].

    Plain: over all pixels added. Rebalanced: the curve is computed per ground-truth ab bin
    (10-unit cells) and averaged over the bins that occur, so rare colours count as much as common
    ones (Zhang et al. 2016). Pixels are accumulated as histograms, so any number of images fits.
    """

    def __init__(self):
        self.counts: dict[tuple[int, int], np.ndarray] = {}

    def add(self, ab_pred: np.ndarray, ab_true: np.ndarray) -> None:
        """ab_pred, ab_true: (..., 2) in ab units."""
        err = np.linalg.norm(ab_pred.reshape(-1, 2) - ab_true.reshape(-1, 2), axis=1)
        steps = np.minimum(np.ceil(err), AUC_MAX_T + 1).astype(np.int64)     # err <= t  <=>  ceil(err) <= t
        cells = np.round(ab_true.reshape(-1, 2) / AB_BIN).astype(np.int64)
        keys, inverse = np.unique(cells, axis=0, return_inverse=True)
        table = np.zeros((len(keys), AUC_MAX_T + 2), np.int64)
        np.add.at(table, (inverse.ravel(), steps), 1)
        for key, row in zip(map(tuple, keys), table):
            self.counts[key] = self.counts.get(key, 0) + row

    @staticmethod
    def _area(hist: np.ndarray) -> float:
        within = np.cumsum(hist)[: AUC_MAX_T + 1] / hist.sum()                # fraction for t = 0..150
        return float(np.trapezoid(within, dx=1.0) / AUC_MAX_T)

    def result(self) -> tuple[float, float]:
        """(plain AuC, class-rebalanced AuC)."""
        if not self.counts:
            raise ValueError("no pixels were added")
        rows = list(self.counts.values())
        return self._area(np.sum(rows, axis=0)), float(np.mean([self._area(r) for r in rows]))
