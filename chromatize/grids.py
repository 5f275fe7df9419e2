"""Comparison pictures: rows of grey | predicted | truth."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .color import denormalize_ab, lab_to_rgb


def lab_to_image(l: torch.Tensor, ab: torch.Tensor) -> Image.Image:
    """(1, H, W) L in [0, 100] and (2, H, W) ab -> RGB PIL image."""
    rgb = lab_to_rgb(torch.cat((l, ab))[None].float())[0]
    return Image.fromarray((rgb.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def comparison_grid(l: torch.Tensor, ab_pred_norm: torch.Tensor, ab_true_norm: torch.Tensor) -> Image.Image:
    """l (B, 1, H, W) in [0, 100]; ab_*_norm (B, 2, H, W) in [-1, 1] -> one image, B rows of 3."""
    rows = []
    for i in range(l.shape[0]):
        tiles = [lab_to_image(l[i], torch.zeros_like(ab_pred_norm[i])),
                 lab_to_image(l[i], denormalize_ab(ab_pred_norm[i])),
                 lab_to_image(l[i], denormalize_ab(ab_true_norm[i]))]
        rows.append(np.concatenate([np.asarray(t) for t in tiles], axis=1))
    return Image.fromarray(np.concatenate(rows, axis=0))
