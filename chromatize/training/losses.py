"""Losses: plain regression on ab_norm, and classification over ab bins with class rebalancing.

Every loss is called as loss(model_output, ab_target) with ab_target (B, 2, H, W) in ab_norm units.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

REGRESSION_LOSSES = ("mse", "l1", "huber")


class RegressionLoss(nn.Module):
    """MSE, L1 or Huber between predicted and true ab_norm (prediction resized to the target)."""

    def __init__(self, kind: str = "mse"):
        super().__init__()
        if kind not in REGRESSION_LOSSES:
            raise ValueError(f"loss must be one of {REGRESSION_LOSSES}, got {kind!r}")
        self.kind = kind

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if pred.shape[-2:] != target.shape[-2:]:
            target = F.adaptive_avg_pool2d(target, pred.shape[-2:])
        if self.kind == "mse":
            return F.mse_loss(pred, target)
        if self.kind == "l1":
            return F.l1_loss(pred, target)
        return F.smooth_l1_loss(pred, target, beta=0.1)


class BinClassLoss(nn.Module):
    """Cross-entropy over ab bins, soft-encoded and class-rebalanced (Zhang et al. 2016).

    centers: (Q, 2) bin centres in ab_norm units. The target is pooled to the logits' size, each
    pixel soft-encoded over its `neighbours` nearest bins with a Gaussian of `sigma` ab units,
    and weighted by the rebalancing weight of its nearest bin (set by fit_prior). With
    `regression` > 0 a Huber term between the distribution's mean ab and the target is added,
    which pulls the decoded colour towards the truth where the classes alone leave it unsure.
    """

    def __init__(self, centers: torch.Tensor, *, neighbours: int = 5, sigma: float = 5.0,
                 rebalance: float = 0.5, regression: float = 0.0):
        super().__init__()
        self.register_buffer("centers", centers.clone())
        self.register_buffer("weights", torch.ones(centers.shape[0]))
        self.neighbours = neighbours
        self.sigma = sigma / 128.0
        if not 0 < rebalance <= 1:
            raise ValueError(f"rebalance must be in (0, 1], got {rebalance}")
        self.rebalance = rebalance
        self.regression = regression

    def encode(self, ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 2) ab_norm -> soft targets (N, Q) and nearest-bin index (N,)."""
        dist = torch.cdist(ab, self.centers)                               # (N, Q)
        d_near, idx = dist.topk(self.neighbours, dim=1, largest=False)     # (N, k)
        w = torch.softmax(-(d_near**2) / (2 * self.sigma**2), dim=1)       # (N, k)
        soft = torch.zeros_like(dist).scatter_(1, idx, w)
        return soft, idx[:, 0]

    @torch.no_grad()
    def fit_prior(self, ab_pixels: torch.Tensor) -> None:
        """Set rebalancing weights from (N, 2) ab_norm pixels of the training set."""
        _, nearest = self.encode(ab_pixels)
        counts = torch.bincount(nearest, minlength=self.centers.shape[0]).float()
        prior = counts / counts.sum()
        spread = torch.exp(-torch.cdist(self.centers, self.centers) ** 2 / (2 * self.sigma**2))
        prior = spread @ prior / spread.sum(1)                             # smoothed prior
        weights = 1.0 / ((1 - self.rebalance) * prior + self.rebalance / prior.numel())
        self.weights.copy_(weights / (prior * weights).sum())

    def forward(self, logits: torch.Tensor | tuple[torch.Tensor, ...], target: torch.Tensor) -> torch.Tensor:
        """Logits (B, Q, h, w), or a tuple of them (with the hint term, the head's own: both answer,
        the mean of their losses), against the target ab_norm (B, 2, H, W)."""
        parts = logits if isinstance(logits, tuple) else (logits,)
        target = F.adaptive_avg_pool2d(target, parts[0].shape[-2:])       # (B, 2, h, w)
        ab = target.permute(0, 2, 3, 1).reshape(-1, 2).float()             # (N, 2)
        soft, nearest = self.encode(ab)                                    # once for every part
        return sum(self._part_loss(part, ab, soft, nearest) for part in parts) / len(parts)

    def _part_loss(self, logits: torch.Tensor, ab: torch.Tensor, soft: torch.Tensor,
                   nearest: torch.Tensor) -> torch.Tensor:
        log_p = torch.log_softmax(logits.float(), dim=1).permute(0, 2, 3, 1).reshape(ab.shape[0], -1)
        per_pixel = -(soft * log_p).sum(1)                                 # (N,)
        loss = (per_pixel * self.weights[nearest]).mean()
        if self.regression:
            mean_ab = log_p.exp() @ self.centers                           # (N, 2)
            loss = loss + self.regression * F.smooth_l1_loss(mean_ab, ab, beta=0.1)
        return loss


def build_loss(kind: str, model: nn.Module, *, rebalance: float = 0.5, regression: float = 0.0) -> nn.Module:
    """The loss a model trains with: bin classification for classifier heads, else regression."""
    if model.is_classifier:
        return BinClassLoss(model.bin_centers, rebalance=rebalance, regression=regression)
    return RegressionLoss(kind)


def consistency_loss(student: torch.Tensor | tuple[torch.Tensor, ...], teacher: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) per pixel, averaged: the bins the teacher's logits (B, Q, h, w) give,
    matched by the student's (or by each of a tuple of them, the mean)."""
    parts = student if isinstance(student, tuple) else (student,)
    log_target = torch.log_softmax(teacher.float(), dim=1)
    return sum(F.kl_div(torch.log_softmax(part.float(), dim=1), log_target, log_target=True, reduction="none")
               .sum(1).mean() for part in parts) / len(parts)
