"""Shared fixtures: tiny generated photos, so the suite needs no data files and stays fast."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

torch.set_num_threads(min(2, os.cpu_count() or 1))


def scene(seed: int, *, size: tuple[int, int] = (48, 40)) -> Image.Image:
    """A small 'landscape': blue sky over green ground with a random red blob and noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = np.zeros((h, w, 3), np.float32)
    horizon = int(h * rng.uniform(0.3, 0.7))
    img[:horizon] = (0.35, 0.6, 0.95)
    img[horizon:] = (0.2, 0.6, 0.15)
    cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(4, 10)
    yy, xx = np.mgrid[:h, :w]
    img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = (0.9, 0.15, 0.1)
    img *= rng.uniform(0.7, 1.0)
    img += rng.normal(0, 0.02, img.shape)
    return Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))


@pytest.fixture
def photo_dir(tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    for i in range(8):
        target = folder / ("sub" if i % 3 == 0 else "") / f"scene{i}.png"
        scene(i).save(target)
    return folder


@pytest.fixture
def tiny_model_file(tmp_path):
    """A freshly initialised unet saved as safetensors (colorize tests need a model, not a good one)."""
    from chromatize.models import create_model, save_model

    torch.manual_seed(0)
    return save_model(create_model("unet", width=8), tmp_path / "tiny" / "model.safetensors")
