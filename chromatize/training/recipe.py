"""From a folder of colour photos and a TrainConfig to a trained run folder.

The colour-aware setup around train.fit: images to Lab batches, the model and its loss, the
rebalancing prior, and the sample grids written during training.
"""
from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

import torch
import torch.nn.functional as F

from ..color import denormalize_l, normalize_ab, normalize_l
from ..fileio import atomic_write
from ..grids import comparison_grid
from ..images import save_atomic
from ..models import create_model, init_from, input_options, load_model, save_model
from ..models.files import RUN_BEST, RUN_CONFIG, RUN_FILES, RUN_MODEL, RUN_SAMPLES, RUN_VAL_LIST
from .config import TrainConfig
from .data import CACHE_MARGIN, Batcher, LabCache, gather_images, single_image_lab, split_paths
from ..runtime import device_for, prepare, resolve_device, setup
from .loop import RunState, fit
from .losses import BinClassLoss, build_loss

log = logging.getLogger(__name__)
SAMPLE_IMAGES = 4


class NotEnoughImages(ValueError):
    pass


def prepare_run_folder(run_dir: Path, *, resume: bool, overwrite: bool) -> None:
    """A run folder is never replaced by accident: an earlier run there needs resume or overwrite
    (which deletes the earlier run's files, models.files.RUN_FILES, and its samples)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir}: is a file; --out needs a folder for the run")
    earlier = run_dir.is_dir() and any((run_dir / name).exists() for name in RUN_FILES)
    if earlier and not (resume or overwrite):
        raise ValueError(f"{run_dir}: holds an earlier run; add --resume to continue it or --overwrite to replace it")
    if earlier and overwrite:
        for name in RUN_FILES:
            (run_dir / name).unlink(missing_ok=True)
        shutil.rmtree(run_dir / RUN_SAMPLES, ignore_errors=True)


def resumed_config(run_dir: Path) -> Path:
    """The config file of the run to resume in run_dir (an error when there is none)."""
    path = run_dir / RUN_CONFIG
    if not path.exists():
        raise FileNotFoundError(f"{run_dir}: nothing to resume (no {RUN_CONFIG} from an earlier run)")
    return path


def train_run(data_dir: str | Path, run_dir: str | Path, cfg: TrainConfig, *, resume: bool = False,
              progress: bool = True) -> RunState:
    """Train cfg.model on the photos in data_dir; writes the run folder (see loop.py) and
    model.safetensors + model.json exported from the best epoch."""
    run_dir = Path(run_dir)
    if cfg.size % 16:
        raise ValueError(f"size must be a multiple of 16, got {cfg.size}")
    dist = setup(cfg.device)
    if resume and cfg.world_size != dist.world:
        log.warning("resuming a run of %d process(es) with %d: the batches will not be the same as before",
                    cfg.world_size, dist.world)
    cfg = cfg.updated({"world_size": dist.world})
    if cfg.init and not resume:     # the input the start's weights learnt to see, unless set here
        cfg = cfg.updated({"model_kwargs": {**input_options(cfg.init, cfg.model), **cfg.model_kwargs}})
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.model, **cfg.model_kwargs)  # the same start on every rank; bad options fail before reading
    if cfg.size % model.multiple:
        raise ValueError(f"size must be a multiple of {model.multiple} for model {cfg.model!r}, got {cfg.size}")
    train_cache, val_cache = _load_caches(data_dir, cfg, progress and dist.is_main)
    run_dir.mkdir(parents=True, exist_ok=True)
    if dist.is_main:
        atomic_write(run_dir / RUN_VAL_LIST, lambda tmp: Path(tmp).write_text(
            "".join(f"{p}\n" for p in val_cache.paths), errors="surrogateescape"))   # names kept byte for byte
    if hasattr(model, "start_from_imagenet") and not cfg.init and not resume:
        model.start_from_imagenet()                                     # the pretrained encoder's weights
    if cfg.init and not resume:
        fresh = init_from(model, cfg.init, keep=tuple(cfg.model_kwargs))
        if dist.is_main:
            log.info("started from %s; %d tensors it lacks start fresh", cfg.init, len(fresh))
    if dist.enabled:
        torch.manual_seed(cfg.seed + 1000 * dist.rank)                  # each rank its own augmentation
    loss_fn = build_loss(cfg.loss, model, rebalance=cfg.rebalance, regression=cfg.ab_regression)
    augment = dict(rotation=cfg.rotation, shear=cfg.shear, zoom=cfg.zoom)
    hint_bins = model.bin_centers if model.takes_hints else None
    train_data = Batcher(train_cache, size=cfg.size, augment=cfg.augment, flips=cfg.flips, degrade=cfg.degrade,
                         paired=bool(cfg.consistency),
                         hint_bins=hint_bins, hint_free=cfg.hint_free, group_weights=cfg.group_weights, **augment)
    if isinstance(loss_fn, BinClassLoss):
        loss_fn.fit_prior(_ab_pixels(train_cache, weights=train_data.weights))
    val_data = Batcher(val_cache, size=cfg.size, augment=False)
    steps = cfg.steps_per_epoch or math.ceil(len(train_cache) / (cfg.batch_size * dist.world))
    device = resolve_device(device_for(dist, cfg.device))
    writer = _sample_writer(val_data, run_dir / RUN_SAMPLES, every=cfg.sample_every, last=cfg.epochs, device=device)
    state = fit(model, loss_fn, train_data, val_data, cfg=cfg, run_dir=run_dir, steps_per_epoch=steps,
                device=device, resume=resume, on_epoch_end=writer, progress=progress, dist=dist)
    if dist.is_main:
        save_model(load_model(run_dir / RUN_BEST), run_dir / RUN_MODEL)
    dist.barrier()
    return state


def _load_caches(data_dir, cfg: TrainConfig, progress: bool) -> tuple[LabCache, LabCache]:
    paths = gather_images(data_dir, max_images=cfg.max_images)
    if cfg.val_dir:
        train_paths, val_paths = paths, gather_images(cfg.val_dir)
    else:
        if len(paths) < 2:
            raise NotEnoughImages(f"need at least 2 images in {data_dir}, found {len(paths)}")
        train_paths, val_paths = split_paths(paths, fraction=cfg.val_split, seed=cfg.seed)
    side = round(cfg.size * CACHE_MARGIN)
    train_cache = LabCache(train_paths, side=side, progress=progress, root=Path(data_dir))
    val_cache = LabCache(val_paths, side=side, progress=progress)
    skipped = len(train_cache.skipped) + len(val_cache.skipped)
    if skipped:
        log.warning("skipped %d unreadable file(s)", skipped)
    if len(train_cache) < 1 or len(val_cache) < 1 or len(train_cache) + len(val_cache) < 2:
        raise NotEnoughImages(f"need at least 2 usable images in {data_dir} (one to train, one to "
                              f"validate), found {len(train_cache) + len(val_cache)} ({skipped} unreadable)")
    log.info("%d training and %d validation images", len(train_cache), len(val_cache))
    return train_cache, val_cache


def _ab_pixels(cache: LabCache, limit: int = 2_000_000, weights: torch.Tensor | None = None) -> torch.Tensor:
    """(N, 2) ab_norm pixels of the training images at quarter resolution (for the class prior);
    with per-image draw weights (data.draw_weights), images drawn in those proportions."""
    lab = cache.lab
    if weights is not None:
        per_image = (lab.shape[-1] // 4) ** 2
        draws = max(1, min(limit // per_image, 4 * len(lab)))
        lab = lab[torch.multinomial(weights, draws, replacement=True, generator=torch.Generator().manual_seed(0))]
    ab = normalize_ab(F.avg_pool2d(lab[:, 1:].float(), 4))                      # (B, 2, S/4, S/4)
    ab = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    if len(ab) > limit:
        ab = ab[torch.randperm(len(ab), generator=torch.Generator().manual_seed(0))[:limit]]
    return ab


def _sample_writer(val_data: Batcher, folder: Path, *, every: int, last: int, device: torch.device):
    def write(epoch: int, model) -> None:
        if every <= 0 or (epoch % every and epoch != last):
            return
        idx = torch.arange(min(SAMPLE_IMAGES, len(val_data.cache)))
        (l_norm,), ab_norm = val_data.batch(idx)
        model.eval()
        with torch.no_grad():
            ab_pred = model.ab_norm(prepare(l_norm, device)).float().cpu()
        save_atomic(comparison_grid(denormalize_l(l_norm), ab_pred, ab_norm), folder / f"epoch_{epoch:03d}.png")

    return write


class SingleImage:
    """The alpha run's data: the same (l_norm, ab_norm) pair every step, for training and validation."""

    def __init__(self, lab: torch.Tensor):
        self.l_norm = normalize_l(lab[:, :1])                 # (1, 1, H, W)
        self.ab_norm = normalize_ab(lab[:, 1:])               # (1, 2, H, W)

    def epoch_batches(self, batch_size: int, steps: int, generator: torch.Generator, skip: int = 0,
                      shard: tuple[int, int] = (0, 1)):
        for _ in range(steps - skip):
            yield (self.l_norm,), self.ab_norm

    def ordered_batches(self, batch_size: int, shard: tuple[int, int] = (0, 1)):
        yield (self.l_norm,), self.ab_norm


def alpha_run(image: str | Path, out_dir: str | Path, *, steps: int = 1000, lr: float = 1e-3,
              seed: int = 0, max_side: int = 512, progress: bool = True):
    """Fit the alpha net to one image (the report's sanity check); returns the fitted model.

    Writes the run files of train.fit (history.csv and loss.png, one point per 10 steps) into
    out_dir; the caller colorizes the image with the returned model.
    """
    torch.manual_seed(seed)
    lab = single_image_lab(image, multiple=8, max_side=max_side)
    data = SingleImage(lab)
    chunk = 10 if steps >= 20 else 1
    cfg = TrainConfig(model="alpha", epochs=max(1, steps // chunk), steps_per_epoch=chunk, batch_size=1,
                      lr=lr, optimizer="adam", weight_decay=0.0, loss="mse", augment=False, seed=seed,
                      device="cpu", sample_every=0)
    model = create_model("alpha")
    fit(model, build_loss("mse", model), data, data, cfg=cfg, run_dir=Path(out_dir), steps_per_epoch=chunk,
        device=torch.device("cpu"), progress=progress)
    return model.eval(), max(lab.shape[-2:])
