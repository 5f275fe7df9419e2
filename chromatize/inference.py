"""Colorizer: predict ab at model resolution, paste it onto the original full-resolution L."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .color import merge_l_ab, normalize_l
from .images import Lightness, to_lightness
from .models import load_model
from .runtime import autocast, resolve_device

DEFAULT_SIZE = 256          # long side the model sees, in pixels


def default_model_path() -> Path:
    return Path(__file__).resolve().parent / "weights" / "default.safetensors"


def load(model: str | Path = "default", *, size: int = DEFAULT_SIZE, device: str = "auto",
         batch_size: int = 8, temperature: float | None = None) -> "Colorizer":
    """A ready Colorizer: 'default' (the shipped model), a .safetensors file, a .pt checkpoint
    or a training run folder. temperature overrides a classifier's annealed-mean temperature."""
    path = default_model_path() if str(model) == "default" else Path(model)
    net = load_model(path)
    if temperature is not None:
        if not hasattr(net, "set_temperature"):
            raise ValueError(f"{path}: temperature applies to bin-classifier models only")
        net.set_temperature(temperature)
    return Colorizer(net, size=size, device=device, batch_size=batch_size)


def colorize_image(image: Image.Image | np.ndarray, model: str | Path = "default", **options) -> Image.Image:
    """One-off convenience: load a model and colorize one image (use load() for many)."""
    return load(model, **options).colorize(image)


class Colorizer:
    """Colorizes PIL images or numpy arrays; the output has the input's size and mode family
    (grey -> RGB, grey+alpha / RGBA / transparent palette -> RGBA, anything else -> RGB)."""

    def __init__(self, model: torch.nn.Module, *, size: int = DEFAULT_SIZE, device: str = "auto",
                 batch_size: int = 8):
        if size < model.multiple:
            raise ValueError(f"size must be at least {model.multiple}, got {size}")
        self.device = resolve_device(device)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        self.size, self.batch_size = size, batch_size

    def colorize(self, image: Image.Image | np.ndarray) -> Image.Image:
        return self.colorize_batch([image])[0]

    def colorize_batch(self, images: list[Image.Image | np.ndarray]) -> list[Image.Image]:
        """Colorize several images; images whose model input has the same shape share a batch."""
        lights = [to_lightness(_as_pil(img)) for img in images]
        ab_small = self.predict_ab([light.l_full for light in lights])
        return [_compose(light, ab) for light, ab in zip(lights, ab_small)]

    def model_shape(self, height: int, width: int) -> tuple[int, int]:
        """The (h, w) the model sees: long side `size`, both sides multiples of the model's stride."""
        m = self.model.multiple
        scale = self.size / max(height, width)
        return (max(m, round(height * scale / m) * m), max(m, round(width * scale / m) * m))

    @torch.no_grad()
    def predict_ab(self, l_fulls: list[torch.Tensor]) -> list[torch.Tensor]:
        """(1, 1, H, W) L tensors -> (1, 2, h, w) ab_norm at model resolution, batched by shape."""
        out: list[torch.Tensor | None] = [None] * len(l_fulls)
        by_shape: dict[tuple, list[int]] = {}
        for i, l in enumerate(l_fulls):
            by_shape.setdefault(tuple(l.shape[-2:]), []).append(i)
        for indices in by_shape.values():
            _, ab = self.predict_frames(torch.cat([l_fulls[i] for i in indices]))
            for i, row in zip(indices, ab):
                out[i] = row[None]
        return out

    @torch.no_grad()
    def predict_frames(self, l_full: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) L of same-size frames -> the L the model saw (B, 1, h, w) and its
        ab_norm (B, 2, h, w), run `batch_size` frames at a time."""
        small = _resize(l_full, self.model_shape(*l_full.shape[-2:]))
        ab = []
        for start in range(0, small.shape[0], self.batch_size):
            batch = small[start:start + self.batch_size].to(self.device, memory_format=torch.channels_last)
            with autocast(self.device):
                ab.append(self.model.predict_ab(normalize_l(batch)).float().cpu())
        return small, torch.cat(ab)


def _resize(l_full: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B, 1, H, W) -> (B, 1, h, w), antialiased when shrinking."""
    if tuple(l_full.shape[-2:]) == shape:
        return l_full
    return F.interpolate(l_full, size=shape, mode="bilinear", align_corners=False, antialias=True)


def _compose(light: Lightness, ab_norm_small: torch.Tensor) -> Image.Image:
    """Full-resolution L + predicted ab -> RGB, or RGBA when the input had alpha."""
    rgb = merge_l_ab(light.l_full, ab_norm_small)
    if light.alpha is not None:
        return Image.fromarray(np.dstack((rgb, light.alpha)), "RGBA")
    return Image.fromarray(rgb, "RGB")


def _as_pil(image: Image.Image | np.ndarray) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a PIL image or a numpy array, got {type(image).__name__}")
    arr = image
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.dtype == np.uint16 and arr.ndim == 2:
        return Image.fromarray(arr)                      # mode I;16
    if arr.dtype.kind == "f":
        arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"array must be (H, W), (H, W, 3) or (H, W, 4) uint8/uint16/float, "
                         f"got shape {arr.shape} dtype {arr.dtype}")
    return Image.fromarray(arr)
