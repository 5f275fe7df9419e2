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


# --- temporal metrics for clips ------------------------------------------------------------------

CDC_DILATIONS = (1, 2, 4)


def channel_histograms(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (3, 256) per-channel histograms, each summing to 1."""
    flat = rgb.reshape(-1, 3)
    return np.stack([np.bincount(flat[:, c], minlength=256) for c in range(3)]) / len(flat)


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence (natural log) of two distributions over the last axis, summed
    over any leading axes' mean: 0.5 KL(p||m) + 0.5 KL(q||m), m = (p + q) / 2."""
    m = (p + q) / 2

    def kl(a: np.ndarray) -> np.ndarray:
        safe = np.where(a > 0, a, 1.0)
        return np.sum(np.where(a > 0, a * np.log(safe / np.where(m > 0, m, 1.0)), 0.0), axis=-1)

    return float(np.mean(0.5 * kl(p) + 0.5 * kl(q)))


class CdcAccumulator:
    """Colour distribution consistency (Liu et al., TCVC): the Jensen-Shannon divergence of the
    per-channel 256-bin RGB histograms of frames t and t + d, averaged over channels and t, then
    over d in (1, 2, 4). Lower = steadier colours. Frames are added in order; memory is 4 frames."""

    def __init__(self, dilations: tuple[int, ...] = CDC_DILATIONS):
        self.dilations = dilations
        self.recent: list[np.ndarray] = []
        self.sums = {d: 0.0 for d in dilations}
        self.counts = {d: 0 for d in dilations}

    def add(self, rgb: np.ndarray) -> None:
        hist = channel_histograms(rgb)
        for d in self.dilations:
            if len(self.recent) >= d:
                self.sums[d] += js_divergence(self.recent[-d], hist)
                self.counts[d] += 1
        self.recent = (self.recent + [hist])[-max(self.dilations):]

    def result(self) -> float:
        per_d = [self.sums[d] / self.counts[d] for d in self.dilations if self.counts[d]]
        if not per_d:
            raise ValueError("CDC needs at least two frames")
        return float(np.mean(per_d))


def farneback_flow(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(H, W, 2) flow from `source` to `target` (uint8 L frames): source(x) ~ target(x + flow(x))."""
    import cv2

    return cv2.calcOpticalFlowFarneback(source, target, None, pyr_scale=0.5, levels=3, winsize=15, iterations=3,
                                        poly_n=5, poly_sigma=1.2, flags=0)


class WarpErrorAccumulator:
    """Temporal warp error of one or more a,b sequences that share one L sequence.

    For each frame t > 0: the backward Farneback flow t -> t-1 on the L frames warps frame t-1's
    a,b onto frame t; the error is the mean of |ab_t - warped ab_{t-1}|^2 (squared distance in
    the ab plane, ab units) over pixels that are not occluded (forward-backward check of Sundaram et al.:
    |b + f'|^2 < 0.01 (|b|^2 + |f'|^2) + 0.5), whose flow stays inside the frame, and whose
    warped L matches within `lum_tol` L units (a flow that lands on another surface is not a
    correspondence, whatever its consistency). Different
    flow from the stabilizer's DIS, so a stabilizer is not graded by its own motion estimate.
    """

    def __init__(self, *, lum_tol: float = 5.0):
        self.lum_tol = lum_tol
        self.prev_l8: np.ndarray | None = None
        self.prev_ab: dict[str, np.ndarray] = {}
        self.errors: dict[str, list[float]] = {}
        self.valid_fraction: list[float] = []

    def add(self, l8: np.ndarray, abs_by_name: dict[str, np.ndarray]) -> None:
        """l8: (H, W) uint8 L (0..255); abs_by_name: name -> (H, W, 2) a,b of this frame."""
        import cv2

        if self.prev_l8 is not None:
            h, w = l8.shape
            back = farneback_flow(l8, self.prev_l8)
            fwd = farneback_flow(self.prev_l8, l8)
            gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            map_x, map_y = gx + back[..., 0], gy + back[..., 1]
            fwd_at = cv2.remap(fwd, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            mismatch = np.sum((back + fwd_at) ** 2, axis=2)
            tolerance = 0.01 * (np.sum(back**2, axis=2) + np.sum(fwd_at**2, axis=2)) + 0.5
            inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
            warped_l = cv2.remap(self.prev_l8, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            same_surface = np.abs(l8.astype(np.float32) - warped_l) < self.lum_tol * 2.55
            valid = (mismatch < tolerance) & inside & same_surface
            self.valid_fraction.append(float(valid.mean()))
            for name, ab in abs_by_name.items():
                warped = cv2.remap(self.prev_ab[name].astype(np.float32), map_x, map_y, cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
                diff = np.sum((ab - warped) ** 2, axis=2)[valid]
                if diff.size:
                    self.errors.setdefault(name, []).append(float(diff.mean()))
        self.prev_l8 = l8
        self.prev_ab = {name: np.asarray(ab, dtype=np.float32) for name, ab in abs_by_name.items()}

    def result(self) -> dict[str, float]:
        return {name: float(np.mean(values)) for name, values in self.errors.items()}
