"""Every hyperparameter in one place: defaults < preset < config file < command-line flags."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainConfig:
    model: str = "unet"                 # registered architecture name
    model_kwargs: dict = field(default_factory=dict)  # options passed to create_model
    size: int = 256                     # training crop side in pixels (multiple of 16)
    epochs: int = 30                    # passes over the training images
    steps_per_epoch: int = 0            # optimiser steps per epoch; 0 = one pass over the data
    batch_size: int = 16                # images per step
    lr: float = 2e-3                    # learning rate
    encoder_lr: float = 0.1             # models with a pretrained encoder: its learning rate as a share of lr
    optimizer: str = "adamw"            # adagrad | rmsprop | adam | adamw
    lr_schedule: str = "constant"       # constant | cosine (decay to 5% of lr over the whole run)
    weight_decay: float = 1e-4          # decoupled weight decay (adamw) or L2 (others)
    loss: str = "mse"                   # mse | l1 | huber (regression heads; classifiers use bin CE)
    rebalance: float = 0.5              # classifiers: weight 1/((1-r)*prior + r/Q); 1 = no rebalancing
    ab_regression: float = 0.0          # classifiers: weight of a Huber term on the decoded mean ab
    ema: float = 0.0                    # decay of an exponential moving average of the weights; 0 = off
    val_split: float = 0.1              # fraction of images held out when no val_dir is given
    val_dir: str = ""                   # separate validation folder (overrides val_split)
    augment: bool = True                # random rotation, shear, zoom and crop
    flips: bool = False                 # horizontal flips (the report left them out on purpose)
    degrade: float = 0.0                # share of training inputs given old-photo damage (degrade.py)
    group_weights: dict = field(default_factory=dict)  # subfolder of the data dir -> its share of the draws; {} = uniform
    hint_free: float = 0.0              # hint models: share of training images given no hint at all
    init: str = ""                      # start from these weights (model file, checkpoint, run folder, "default")
    rotation: float = 20.0              # max rotation in degrees
    shear: float = 0.2                  # max shear in radians
    zoom: float = 0.2                   # zoom range: scale in [1 - zoom, 1 + zoom]
    seed: int = 0                       # seeds the split, batches, augmentation and weights
    device: str = "auto"                # auto | cpu | cuda
    precision: str = "auto"             # auto: bf16 autocast where it is fast (CUDA, AMX CPUs) | fp32: always fp32
    time_budget_min: float = 0.0       # stop training after this many minutes of training steps; 0 = off
    checkpoint_every_steps: int = 0     # also write last.pt every N steps inside an epoch; 0 = per epoch
    patience: int = 0                   # early stopping after this many epochs without val gain; 0 = off
    sample_every: int = 5               # write a val sample grid every N epochs
    max_images: int = 0                 # use at most this many images (0 = all); for quick trials
    world_size: int = 1                 # processes that trained the run (set by the run: torchrun's WORLD_SIZE)

    def __post_init__(self) -> None:
        """Fail early, with the bad value, on settings no run could use."""
        checks = [
            ("size", self.size % 16 == 0 and 16 <= self.size <= 2048, "a multiple of 16 from 16 to 2048"),
            ("epochs", self.epochs >= 1, "at least 1"),
            ("batch_size", self.batch_size >= 1, "at least 1"),
            ("steps_per_epoch", self.steps_per_epoch >= 0, "0 or more"),
            ("lr", self.lr >= 0, "0 or more"),
            ("encoder_lr", self.encoder_lr >= 0, "0 or more"),
            ("weight_decay", self.weight_decay >= 0, "0 or more"),
            ("rebalance", 0 < self.rebalance <= 1, "in (0, 1]"),
            ("ab_regression", self.ab_regression >= 0, "0 or more"),
            ("ema", 0 <= self.ema < 1, "in [0, 1)"),
            ("val_split", 0 < self.val_split < 1, "between 0 and 1"),
            ("degrade", 0 <= self.degrade <= 1, "in [0, 1]"),
            ("hint_free", 0 <= self.hint_free <= 1, "in [0, 1]"),
            ("precision", self.precision in ("auto", "fp32"), "auto or fp32"),
            ("time_budget_min", self.time_budget_min >= 0, "0 or more"),
            ("patience", self.patience >= 0, "0 or more"),
            ("checkpoint_every_steps", self.checkpoint_every_steps >= 0, "0 or more"),
            ("sample_every", self.sample_every >= 0, "0 or more"),
            ("max_images", self.max_images >= 0, "0 or more"),
        ]
        bad_weights = {k: v for k, v in self.group_weights.items() if not (isinstance(v, (int, float)) and v >= 0)}
        if bad_weights or (self.group_weights and not sum(self.group_weights.values()) > 0):
            raise ValueError(f"group_weights must be 0 or more and not all 0, got {self.group_weights!r}")
        for name, ok, want in checks:
            if not ok:
                raise ValueError(f"{name} must be {want}, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        return cls(**values)

    def updated(self, values: dict) -> "TrainConfig":
        return TrainConfig.from_dict({**self.to_dict(), **values})


PRESETS: dict[str, dict] = {
    # The report's recipe: Beta with three extra convs, Adagrad 1e-3, MSE, its augmentation, batch 15.
    "seed-beta": dict(model="beta", model_kwargs={"extra_convs": 3}, size=256, optimizer="adagrad", lr=1e-3,
                      loss="mse", batch_size=15, augment=True, flips=False, weight_decay=0.0),
    # Our default recipe: the ImageNet-encoder U-Net (models/lite_unet.py) with bin classification
    # (milder rebalancing, plus a Huber term on the decoded mean ab), AdamW (weight decay 0.05) with
    # cosine decay, the encoder at a tenth of the decoder's learning rate, EMA of the weights,
    # horizontal flips; it
    # takes colour hints (simulated in training; half the images get none, so automatic colour
    # keeps its share), and the hint spread's colour reaches the bins' logits too (hint_logits);
    # 30 % of its inputs get old-photo damage.
    "default": dict(model="lite_unet", model_kwargs={"hint_logits": True}, size=192, optimizer="adamw", lr=1e-3, encoder_lr=0.1,
                    weight_decay=0.05, batch_size=16, lr_schedule="cosine", rebalance=0.75, ab_regression=30.0, ema=0.999,
                    degrade=0.3, hint_free=0.5, flips=True),
    # The previous default: the U-Net trained from scratch, no pretrained weights needed.
    "scratch": dict(model="unet", model_kwargs={"hints": True, "depth": 4}, size=192, optimizer="adamw", lr=2e-3,
                    batch_size=16, lr_schedule="cosine", rebalance=0.75, ab_regression=10.0, ema=0.999,
                    degrade=0.3, hint_free=0.5),
}


def build_config(*, preset: str | None = None, config_file: str | None = None,
                 overrides: dict | None = None) -> TrainConfig:
    """Defaults, then a preset, then a JSON config file, then explicit overrides."""
    cfg = TrainConfig()
    if preset:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        cfg = cfg.updated(PRESETS[preset])
    if config_file:
        cfg = cfg.updated(json.loads(Path(config_file).read_text()))
    return cfg.updated(overrides or {})
