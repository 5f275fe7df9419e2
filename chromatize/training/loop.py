"""The training loop. It knows nothing about colour: only a model, batches, a loss and checkpoints.

Run-folder layout (the names are models/files.py's):
    config.json   the full TrainConfig
    history.csv   epoch, step, train_loss, val_loss, seconds, images_per_s
    loss.png      train and validation loss curves (the overfitting plot)
    last.pt       weights + optimiser + RNG state + config, written after every epoch, and every
                  cfg.checkpoint_every_steps steps inside one (and on Ctrl-C), so that a killed run
                  loses at most that many steps; --resume continues exactly, also mid-epoch
    best.pt       the same for the epoch with the lowest validation loss
With cfg.ema, validation, samples and the checkpoints' "model" use the averaged weights; the
raw training weights ride along as "train_model" so that --resume continues exactly.
"""
from __future__ import annotations

import copy
import csv
import json
import logging
import math
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ..fileio import atomic_write
from ..models.files import RUN_BEST, RUN_CONFIG, RUN_HISTORY, RUN_LAST, RUN_PLOT
from ..runtime import Dist, autocast, prepare
from .config import TrainConfig
from .losses import consistency_loss

log = logging.getLogger(__name__)
HISTORY_FIELDS = ["epoch", "step", "train_loss", "val_loss", "seconds", "images_per_s"]


class TrainData(Protocol):
    """Batches are (inputs, target): the model is called as model(*inputs), the loss as loss(output, target).
    The order comes from `generator` alone; the first `skip` batches are passed over without being
    made (a resumed epoch), so the global RNG (augmentation) is not touched by them."""

    def epoch_batches(self, batch_size: int, steps: int, generator: torch.Generator, skip: int = 0,
                      shard: tuple[int, int] = (0, 1)) -> Iterable: ...


class ValData(Protocol):
    def ordered_batches(self, batch_size: int, shard: tuple[int, int] = (0, 1)) -> Iterable: ...


@dataclass
class RunState:
    """What a checkpoint holds besides weights and optimiser: enough to continue exactly."""

    epoch: int = 0                      # completed epochs
    step: int = 0                       # optimiser steps taken
    best_val: float = math.inf
    bad_epochs: int = 0                 # epochs since the best validation loss
    history: list[dict] = field(default_factory=list)
    partial: dict | None = None         # an epoch under way: steps done, sums so far, its batch-order RNG


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the checkpoint of the last finished step was written."""


class _StopRequest:
    """SIGINT sets a flag the loop reads between steps (a second Ctrl-C stops at once)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer over the model's own parameter groups where it has them (a pretrained
    encoder at cfg.encoder_lr x lr: model.param_groups), else over all its parameters at lr."""
    kinds = {"adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
             "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if cfg.optimizer not in kinds:
        raise ValueError(f"optimizer must be one of {', '.join(kinds)}, got {cfg.optimizer!r}")
    groups = model.param_groups(cfg.lr, encoder_lr=cfg.encoder_lr) if hasattr(model, "param_groups") \
        else model.parameters()
    return kinds[cfg.optimizer](groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


def make_scheduler(cfg: TrainConfig, optimizer, total_steps: int, clock: "Clock") -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay over the run; with a time budget, over whichever runs out first, steps or time."""
    if cfg.lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be constant or cosine, got {cfg.lr_schedule!r}")

    def factor(step: int) -> float:
        if cfg.lr_schedule == "constant":
            return 1.0
        progress = max(step / max(total_steps, 1), clock.fraction_used())
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class Ema:
    """Exponential moving average of a model's weights and buffers, with the usual warm-up:
    the decay is min(decay, (1 + n) / (10 + n)) at update n, so early weights fade fast."""

    def __init__(self, model: nn.Module, decay: float):
        if not 0 < decay < 1:
            raise ValueError(f"ema decay must be in (0, 1), got {decay}")
        self.module = copy.deepcopy(model).eval()
        self.decay, self.updates = decay, 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for avg, new in zip(self.module.state_dict().values(), model.state_dict().values()):
            if avg.dtype.is_floating_point:
                avg.lerp_(new, 1 - decay)
            else:
                avg.copy_(new)


class Clock:
    """Training seconds spent (steps only, validation excluded), against an optional budget."""

    def __init__(self, budget_s: float, spent_s: float = 0.0):
        self.budget_s, self.spent_s, self._since = budget_s, spent_s, None

    def start(self) -> None:
        self._since = time.perf_counter()

    def stop(self) -> None:
        self.spent_s += time.perf_counter() - self._since
        self._since = None

    def now(self) -> float:
        return self.spent_s + (time.perf_counter() - self._since if self._since else 0.0)

    def fraction_used(self) -> float:
        return self.now() / self.budget_s if self.budget_s else 0.0

    def out(self) -> bool:
        return bool(self.budget_s) and self.now() >= self.budget_s


def fit(model: nn.Module, loss_fn: nn.Module, train_data: TrainData, val_data: ValData, *,
        cfg: TrainConfig, run_dir: Path, steps_per_epoch: int, device: torch.device,
        resume: bool = False, on_epoch_end: Callable[[int, nn.Module], None] | None = None,
        progress: bool = True, dist: Dist = Dist()) -> RunState:
    """Train for cfg.epochs epochs of `steps_per_epoch` steps; returns the final RunState.
    Under torchrun (dist.enabled) each rank takes its share of every global batch of
    cfg.batch_size x dist.world images, DDP averages the gradients, and rank 0 alone writes."""
    run_dir.mkdir(parents=True, exist_ok=True)
    model.to(device, memory_format=torch.channels_last)
    loss_fn.to(device)
    net = model
    if dist.enabled:
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        log.info("distributed: %d processes x %d images = a global batch of %d", dist.world, cfg.batch_size,
                 dist.world * cfg.batch_size)
    optimizer = make_optimizer(cfg, model)
    clock = Clock(cfg.time_budget_min * 60)
    scheduler = make_scheduler(cfg, optimizer, cfg.epochs * steps_per_epoch, clock)
    generator = torch.Generator().manual_seed(cfg.seed)
    ema = Ema(model, cfg.ema) if cfg.ema else None
    state = RunState()
    if resume:
        state = _restore(run_dir / RUN_LAST, model, optimizer, scheduler, generator, ema, dist)
        clock.spent_s = sum(row["seconds"] for row in state.history) + (state.partial or {}).get("seconds", 0.0)
    if dist.is_main:
        atomic_write(run_dir / RUN_CONFIG, lambda tmp: Path(tmp).write_text(json.dumps(cfg.to_dict(), indent=2)))
    total = None if cfg.time_budget_min else cfg.epochs * steps_per_epoch     # a budget ends it by the clock
    bar = tqdm(total=total, initial=min(state.step, total or state.step), unit="step",
               disable=not progress or not dist.is_main, dynamic_ncols=True, desc="training")
    saver = lambda: _save(run_dir / RUN_LAST, _checkpoint(state, (model, ema), (optimizer, scheduler), generator,
                                                           cfg, dist), dist)
    with _StopRequest() as stop:
        while state.epoch < cfg.epochs and not _should_stop(cfg, state) and not dist.any(clock.out()):
            row = _run_epoch((net, model), ema, loss_fn, (optimizer, scheduler), train_data, val_data, cfg,
                             steps_per_epoch, generator, device, state, bar, clock, (stop, saver), dist)
            _record(row, state, (model, ema), (optimizer, scheduler), generator, cfg, run_dir, dist)
            if on_epoch_end and dist.is_main:
                on_epoch_end(state.epoch, ema.module if ema else model)
    bar.close()
    return state


def _save(path: Path, ckpt: dict, dist: Dist) -> None:
    if dist.is_main:
        atomic_write(path, lambda tmp: torch.save(ckpt, tmp))


def _should_stop(cfg: TrainConfig, state: RunState) -> bool:
    if cfg.patience and state.bad_epochs >= cfg.patience:
        log.info("early stop: no validation gain in %d epochs", state.bad_epochs)
        return True
    return False


def _run_epoch(models, ema: Ema | None, loss_fn, optimizers, train_data, val_data, cfg, steps, generator, device,
               state: RunState, bar, clock: Clock, stopping, dist: Dist) -> dict:
    net, model = models                                               # net: the DDP wrapper or the model
    optimizer, scheduler = optimizers
    stop, save = stopping
    model.train()
    part = state.partial or {"done": 0, "loss": 0.0, "images": 0, "seconds": 0.0}
    if state.partial:
        generator.set_state(part["epoch_rng"])                       # replay this epoch's order
    epoch_rng = generator.get_state()
    done, total_loss, images = part["done"], part["loss"], part["images"]
    started = time.perf_counter() - part["seconds"]
    bf16 = cfg.precision == "auto"                                    # autocast where it is fast (runtime.py)
    clock.start()
    shard = (dist.rank, dist.world)
    for inputs, target, *pair in train_data.epoch_batches(cfg.batch_size, steps, generator, skip=done, shard=shard):
        if dist.any(clock.out()):
            break                                                     # time budget spent mid-epoch
        inputs, target = [prepare(x, device) for x in inputs], prepare(target, device)
        with autocast(device, enabled=bf16):
            out = net(*inputs)
            loss = loss_fn(out, target)
            if pair:                                                  # a paired batcher: --consistency
                loss = loss + cfg.consistency * _consistency(out, inputs, pair[0], ema.module, device)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training loss became {loss.item()} at step {state.step}; lower --lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if ema:
            ema.update(model)
        state.step += 1
        done += 1
        total_loss += loss.item()
        images += target.shape[0]
        rate = images / (time.perf_counter() - started)
        bar.update(1)
        bar.set_postfix(epoch=state.epoch + 1, loss=f"{loss.item():.4f}", img_s=f"{rate:.1f}")
        every = cfg.checkpoint_every_steps
        stopping_now = dist.any(stop.requested)
        if stopping_now or (every and state.step % every == 0 and done < steps):
            state.partial = {"done": done, "loss": total_loss, "images": images,
                             "seconds": time.perf_counter() - started, "epoch_rng": epoch_rng}
            clock.stop()
            save()
            clock.start()
            if stopping_now:
                clock.stop()
                raise Interrupted(f"interrupted: checkpoint saved at step {state.step}; --resume continues")
    clock.stop()
    state.partial = None
    seconds = time.perf_counter() - started
    val_loss = evaluate_loss(ema.module if ema else model, loss_fn, val_data, batch_size=cfg.batch_size,
                             device=device, dist=dist, bf16=bf16)
    loss_sum, done_sum, images = dist.sum(total_loss, done, images)   # the whole global batch's figures
    total_loss, done = loss_sum, int(done_sum)
    bar.set_postfix(epoch=state.epoch + 1, loss=f"{total_loss / max(done, 1):.4f}", val=f"{val_loss:.4f}")
    return {"epoch": state.epoch + 1, "step": state.step, "train_loss": total_loss / max(done, 1),
            "val_loss": val_loss, "seconds": round(seconds, 2), "images_per_s": round(images / seconds, 2)}


def _consistency(out, inputs: list[torch.Tensor], pair: tuple[torch.Tensor, torch.Tensor], teacher: nn.Module,
                 device: torch.device) -> torch.Tensor:
    """The consistency term (losses.consistency_loss) over the batch's old prints: the teacher (the
    averaged weights) answers for each print's clean photo, with the same hints."""
    clean, damaged = pair
    if not damaged.any():
        return torch.zeros((), device=device)
    keep = prepare(damaged, device)
    with torch.no_grad():
        answer = teacher(prepare(clean, device)[keep], *(x[keep] for x in inputs[1:]))
    student = tuple(part[keep] for part in out) if isinstance(out, tuple) else out[keep]
    return consistency_loss(student, answer)


@torch.no_grad()
def evaluate_loss(model: nn.Module, loss_fn: nn.Module, data: ValData, *, batch_size: int,
                  device: torch.device, dist: Dist = Dist(), bf16: bool = True) -> float:
    """Mean loss over every validation image (weighted by batch size; split over the ranks)."""
    model.eval()
    total, count = 0.0, 0
    for inputs, target in data.ordered_batches(batch_size, shard=(dist.rank, dist.world)):
        inputs, target = [prepare(x, device) for x in inputs], prepare(target, device)
        with autocast(device, enabled=bf16):
            total += loss_fn(model(*inputs), target).item() * target.shape[0]
        count += target.shape[0]
    total, count = dist.sum(total, count)
    return total / max(count, 1)


def _record(row: dict, state: RunState, models, optimizers, generator, cfg, run_dir: Path, dist: Dist) -> None:
    state.epoch += 1
    state.history.append(row)
    improved = row["val_loss"] < state.best_val
    state.best_val = min(state.best_val, row["val_loss"])
    state.bad_epochs = 0 if improved else state.bad_epochs + 1
    ckpt = _checkpoint(state, models, optimizers, generator, cfg, dist)
    _save(run_dir / RUN_LAST, ckpt, dist)
    if improved:
        _save(run_dir / RUN_BEST, ckpt, dist)
    if dist.is_main:
        write_history(state.history, run_dir)


def _checkpoint(state: RunState, models, optimizers, generator, cfg: TrainConfig, dist: Dist = Dist()) -> dict:
    optimizer, scheduler = optimizers
    model, ema = models
    ckpt = {
        "model": _cpu_state(ema.module if ema else model),
        "model_config": model.config,
        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "config": cfg.to_dict(),
        "epoch": state.epoch, "step": state.step, "best_val": state.best_val,
        "bad_epochs": state.bad_epochs, "history": state.history,
        "torch_rng": torch.get_rng_state(), "batch_rng": generator.get_state(),
    }
    if state.partial:
        ckpt["partial"] = state.partial
    if dist.enabled:                                   # each rank's augmentation stream, for an exact resume
        ckpt["torch_rng_ranks"] = dist.gather(torch.get_rng_state())
    if ema:
        ckpt["train_model"], ckpt["ema_updates"] = _cpu_state(model), ema.updates
    return ckpt


def _cpu_state(model: nn.Module) -> dict:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def _restore(path: Path, model, optimizer, scheduler, generator, ema: Ema | None, dist: Dist = Dist()) -> RunState:
    if not path.exists():
        raise FileNotFoundError(f"{path}: nothing to resume from (no last.pt in the run folder)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)     # tensors and plain values only
    except Exception as err:
        raise ValueError(f"{path}: a damaged checkpoint, cannot resume ({type(err).__name__})") from None
    try:
        if ema:
            ema.module.load_state_dict(ckpt["model"])
            ema.updates = ckpt["ema_updates"]
        model.load_state_dict(ckpt["train_model"] if ema else ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
    except (KeyError, RuntimeError, ValueError) as err:
        raise ValueError(f"{path}: a checkpoint of another model or recipe, cannot resume this run "
                         f"({str(err).splitlines()[0][:120]})") from None
    ranks = ckpt.get("torch_rng_ranks")
    if dist.enabled and ranks and len(ranks) == dist.world:
        torch.set_rng_state(ranks[dist.rank])
    else:
        torch.set_rng_state(ckpt["torch_rng"])
    generator.set_state(ckpt["batch_rng"])
    log.info("resuming %s at epoch %d, step %d", path, ckpt["epoch"], ckpt["step"])
    return RunState(epoch=ckpt["epoch"], step=ckpt["step"], best_val=ckpt["best_val"],
                    bad_epochs=ckpt["bad_epochs"], history=list(ckpt["history"]), partial=ckpt.get("partial"))


def write_history(history: list[dict], run_dir: Path) -> None:
    """history.csv and loss.png from the per-epoch rows."""
    def write_csv(tmp: str) -> None:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=HISTORY_FIELDS)
            writer.writeheader()
            writer.writerows(history)

    atomic_write(run_dir / RUN_HISTORY, write_csv)
    atomic_write(run_dir / RUN_PLOT, lambda tmp: plot_losses(history, tmp))


def plot_losses(history: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    ax.plot(epochs, [r["val_loss"] for r in history], "s-", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("training and validation loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
