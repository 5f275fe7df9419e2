"""Image folders -> cached Lab tensors -> augmented (L, ab) batches; the alpha run's one-image set."""
from __future__ import annotations

import logging
import math
import random
from pathlib import Path

import kornia.augmentation as K
import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from ..color import normalize_ab, normalize_l, rgb_to_lab
from ..degrade import degrade_lab
from ..models.hint_inputs import reference_vector
from .simulated_hints import simulate_points
from ..images import ImageError, find_images, open_image, to_rgb_array

log = logging.getLogger(__name__)
CACHE_MARGIN = 1.15      # cached squares are this much larger than the crop, room for zoom and crops


class LabCache:
    """Every image decoded and resized once: (N, 3, S, S) float16 Lab squares in memory."""

    def __init__(self, paths: list[Path], *, side: int, progress: bool = True, root: Path | None = None):
        tensors, self.paths, self.skipped = [], [], []
        for path in tqdm(paths, desc="loading images", unit="img", disable=not progress, leave=False):
            try:
                tensors.append(_lab_square(open_image(path), side))
                self.paths.append(path)
            except ImageError as err:
                log.warning("skipping %s", err)
                self.skipped.append(path)
        self.lab = torch.stack(tensors) if tensors else torch.empty(0, 3, side, side, dtype=torch.float16)
        self.groups = [group_of(p, root) for p in self.paths]

    def __len__(self) -> int:
        return len(self.paths)


def group_of(path: Path, root: Path | None) -> str:
    """An image's group: its top-level subfolder under root ("." for files at the top level)."""
    if root is None:
        return "."
    parts = Path(path).relative_to(root).parts
    return parts[0] if len(parts) > 1 else "."


def draw_weights(groups: list[str], group_weights: dict[str, float]) -> torch.Tensor | None:
    """(N,) per-image weights giving each group its share of the draws, spread evenly over its
    images; None for uniform draws (no weights given)."""
    if not group_weights:
        return None
    counts = {g: groups.count(g) for g in sorted(set(groups))}
    missing = [g for g in counts if g not in group_weights]
    if missing:
        raise ValueError(f"group_weights has no weight for group(s) {', '.join(missing)} "
                         f"(groups present: {', '.join(f'{g} ({n})' for g, n in counts.items())})")
    weights = torch.tensor([group_weights[g] / counts[g] for g in groups], dtype=torch.float64)
    if not weights.sum() > 0:
        raise ValueError(f"group_weights gives every image weight 0: {group_weights!r}")
    return weights


def _lab_square(img: Image.Image, side: int) -> torch.Tensor:
    """Resize the shorter side to `side`, centre-crop a square, -> (3, side, side) float16 Lab."""
    w, h = img.size
    scale = side / min(w, h)
    img = img if img.mode in ("RGB", "L") else Image.fromarray(to_rgb_array(img))
    img = img.resize((max(side, round(w * scale)), max(side, round(h * scale))), Image.BICUBIC)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    rgb = to_rgb_array(img.crop((left, top, left + side, top + side)))
    rgb_t = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None]   # (1, 3, S, S)
    return rgb_to_lab(rgb_t)[0].half()


def split_paths(paths: list[Path], *, fraction: float, seed: int) -> tuple[list[Path], list[Path]]:
    """Seeded random split into (train, val); val gets at least one image."""
    if not 0 < fraction < 1:
        raise ValueError(f"val_split must be between 0 and 1, got {fraction}")
    order = sorted(paths)
    random.Random(seed).shuffle(order)
    n_val = max(1, math.floor(len(order) * fraction))
    return sorted(order[n_val:]), sorted(order[:n_val])


def gather_images(data_dir: str | Path, *, max_images: int = 0) -> list[Path]:
    root = Path(data_dir)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    paths = find_images(root)
    return paths[:max_images] if max_images else paths


class Batcher:
    """Turns a LabCache into (inputs, ab_norm) batches of side `size`, augmented or centre-cropped.

    inputs: (l_norm,) with l_norm (B, 1, size, size) in [-1, 1]; for a hint model in training
    (`hint_bins` = its (Q, 2) bin centres) (l_norm, points, reference) as in models/hint_inputs.py.
    ab_norm: (B, 2, size, size) in [-1, 1], the target.
    `degrade`: the share of images whose L input is an old print's (degrade.py: the film's colour
    response and the print's damage); the target stays clean. `hint_free`: the share of images given no hint at all (on top of the
    simulation's own 1 in 8), so that automatic colour gets its share of the training.
    `paired`: each batch also carries (clean l_norm, damaged mask), the input each image had
    before its damage, for the consistency term (loop.py); the draws are the same either way.
    Extra randomness comes from torch's global generator (seeded, and saved in checkpoints), so
    a resumed run draws the same.
    """

    def __init__(self, cache: LabCache, *, size: int, augment: bool, flips: bool = False,
                 rotation: float = 20.0, shear: float = 0.2, zoom: float = 0.2, degrade: float = 0.0,
                 hint_bins: torch.Tensor | None = None, reference_p: float = 0.3, hint_free: float = 0.0,
                 group_weights: dict[str, float] | None = None, paired: bool = False):
        self.cache, self.size, self.paired = cache, size, paired
        self.weights = draw_weights(cache.groups, group_weights or {})
        self.degrade, self.hint_bins, self.reference_p, self.hint_free = degrade, hint_bins, reference_p, hint_free
        self.affine = K.AugmentationSequential(
            K.RandomAffine(degrees=rotation, shear=math.degrees(shear), scale=(1 - zoom, 1 + zoom),
                           padding_mode="reflection", p=1.0),
            K.RandomCrop((size, size))) if augment else None
        self.flip = K.RandomHorizontalFlip() if flips else None

    def batch(self, indices: torch.Tensor) -> tuple:
        lab = self.cache.lab[indices].float()                          # (B, 3, S, S)
        lab = self.affine(lab) if self.affine else _center_crop(lab, self.size)   # (B, 3, size, size)
        if self.flip:
            lab = self.flip(lab)
        l, ab_norm = lab[:, :1], normalize_ab(lab[:, 1:])
        clean = normalize_l(l) if self.paired else None                # the input before any damage
        damaged = torch.zeros(len(l), dtype=torch.bool)
        if self.degrade:
            damaged = torch.rand(len(l)) < self.degrade
            l = torch.stack([degrade_lab(x[None])[0] if d else y for x, y, d in zip(lab, l, damaged)])
        inputs = (normalize_l(l),)
        if self.hint_bins is not None:
            points, refs = simulate_points(ab_norm), self._references(ab_norm)
            free = torch.rand(len(l)) < self.hint_free                # these learn automatic colour alone
            points[free], refs[free] = 0, 0
            inputs = (*inputs, points, refs)
        return (inputs, ab_norm, (clean, damaged)) if self.paired else (inputs, ab_norm)

    def _references(self, ab_norm: torch.Tensor) -> torch.Tensor:
        """(B, Q + 2): the palette of a random 50-100 % crop of each image's own truth for
        `reference_p` of the images, absent (zeros) for the rest."""
        refs = torch.zeros(len(ab_norm), self.hint_bins.shape[0] + 2)
        for i in torch.nonzero(torch.rand(len(ab_norm)) < self.reference_p).flatten().tolist():
            side = int(self.size * (0.5 + 0.5 * float(torch.rand(()))))
            top, left = torch.randint(0, self.size - side + 1, (2,)).tolist()
            refs[i] = reference_vector(ab_norm[i:i + 1, :, top:top + side, left:left + side], self.hint_bins)[0]
        return refs

    def epoch_batches(self, batch_size: int, steps: int, generator: torch.Generator, skip: int = 0,
                      shard: tuple[int, int] = (0, 1)):
        """Yield `steps` batches, reshuffling whenever the data runs out; the first `skip` are
        passed over unmade (a resumed epoch). shard = (rank, world): every rank draws the same
        global batches of batch_size x world images and makes its own slice of each."""
        rank, world = shard
        order = torch.empty(0, dtype=torch.long)
        for step in range(steps):
            if self.weights is not None:
                idx = torch.multinomial(self.weights, batch_size * world, replacement=True, generator=generator)
            else:
                while len(order) < batch_size * world:
                    order = torch.cat((order, torch.randperm(len(self.cache), generator=generator)))
                idx, order = order[:batch_size * world], order[batch_size * world:]
            if step >= skip:
                yield self.batch(idx[rank * batch_size:(rank + 1) * batch_size])

    def ordered_batches(self, batch_size: int, shard: tuple[int, int] = (0, 1)):
        """Every image once, in order (validation); with shard = (rank, world), this rank's batches."""
        rank, world = shard
        starts = range(0, len(self.cache), batch_size)
        for start in list(starts)[rank::world]:
            yield self.batch(torch.arange(start, min(start + batch_size, len(self.cache))))


def _center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    top, left = (x.shape[-2] - size) // 2, (x.shape[-1] - size) // 2
    return x[..., top:top + size, left:left + size]


def single_image_lab(path: str | Path, *, multiple: int = 8, max_side: int = 512) -> torch.Tensor:
    """The alpha run's data: one image at most `max_side`, sides multiples of `multiple`.

    Returns (1, 3, H, W) float32 Lab.
    """
    img = open_image(path).convert("RGB")
    scale = min(1.0, max_side / max(img.size))
    w = max(multiple, round(img.width * scale / multiple) * multiple)
    h = max(multiple, round(img.height * scale / multiple) * multiple)
    rgb = np.asarray(img.resize((w, h), Image.BICUBIC), dtype=np.float32) / 255
    return rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1)[None])
