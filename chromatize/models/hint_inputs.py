"""The hint inputs a model takes, as tensors: the contract between models, training and inference.

    point hints: (B, 3, h, w) at model resolution: channels 0-1 the hinted ab_norm (0 elsewhere),
                 channel 2 the mask (1 where a hint is, 0 elsewhere), so "no hint" differs from
                 "the user chose grey" (ab 0, mask 1).
    reference:   (B, Q + 2) global hint: the reference's distribution over the model's Q ab bins
                 (pixels at 1/4 resolution, each counted in its nearest bin), its mean chroma
                 (ab_norm units), and a "present" flag (0 and an all-zero vector when absent).

Users' points become point maps in inference/points.py; training simulates both from the truth
(training/simulated_hints.py); ONNX graphs take the same two inputs (models/onnx_io.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def reference_dim(n_bins: int) -> int:
    return n_bins + 2

def empty_points(batch: int, height: int, width: int, *, like: torch.Tensor) -> torch.Tensor:
    """(B, 3, h, w) zeros: no point hints."""
    return torch.zeros(batch, 3, height, width, device=like.device, dtype=like.dtype)

def empty_reference(batch: int, n_bins: int, *, like: torch.Tensor) -> torch.Tensor:
    """(B, Q + 2) zeros: no reference (present flag 0)."""
    return torch.zeros(batch, reference_dim(n_bins), device=like.device, dtype=like.dtype)

def reference_vector(ab_norm: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W) ab_norm of reference images, (Q, 2) bin centres -> (B, Q + 2) global hints."""
    ab = F.avg_pool2d(ab_norm.float(), 4) if min(ab_norm.shape[-2:]) >= 8 else ab_norm.float()
    pixels = ab.flatten(2).transpose(1, 2)                                   # (B, N, 2)
    nearest = torch.cdist(pixels, centers.float()[None]).argmin(-1)          # (B, N)
    hist = torch.zeros(ab.shape[0], centers.shape[0], device=ab.device)
    hist.scatter_add_(1, nearest, torch.ones_like(nearest, dtype=hist.dtype))
    hist = hist / pixels.shape[1]                                            # (B, Q)
    chroma = pixels.norm(dim=-1).mean(1, keepdim=True)                      # (B, 1)
    return torch.cat((hist, chroma, torch.ones_like(chroma)), dim=1)
