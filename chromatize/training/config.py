"""Every hyperparameter in one place: defaults (the default recipe) < preset < config file < command-line
flags; each field carries its flag's help, and the command line is made from them (cli/train.py)."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path


def _f(default, help: str, **flag):
    """A TrainConfig field with its command-line help (cli/train.py makes one flag per field from it)."""
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"help": help, **flag})
    return field(default=default, metadata={"help": help, **flag})


@dataclass
class TrainConfig:
    """Every training hyperparameter. The defaults are the default recipe (the one the shipped
    model was trained with: the ImageNet-encoder U-Net of models/lite_unet.py with bin
    classification, milder rebalancing plus a Huber term on the decoded mean ab, AdamW with weight
    decay 0.05 and cosine decay, the encoder at a tenth of the learning rate, EMA of the weights,
    horizontal flips, simulated colour hints with half the images given none, and 30 % old-photo
    damage), so `chromatize.train(folder, TrainConfig())` trains what `chromatize train folder` does.
    Other named recipes are PRESETS; `metadata` holds each field's flag help (cli/train.py)."""

    model: str = _f("lite_unet", "architecture: alpha, beta, unet or lite_unet")
    model_kwargs: dict = _f({}, "options passed to create_model", flag=False)
    size: int = _f(192, "training crop side in pixels, a multiple of 16", low=16, high=2048)
    epochs: int = _f(30, "passes over the training images (or of --steps-per-epoch steps)", low=1)
    steps_per_epoch: int = _f(0, "optimiser steps per epoch; 0 = one pass over the training images", low=0)
    batch_size: int = _f(16, "images per step", low=1)
    lr: float = _f(1e-3, "learning rate", low=0)
    encoder_lr: float = _f(0.1, "a pretrained encoder's learning rate as a share of --lr", low=0)
    optimizer: str = _f("adamw", "optimiser", choices=("adagrad", "rmsprop", "adam", "adamw"))
    lr_schedule: str = _f("cosine", "constant, or cosine decay to 5%% of --lr over the run",
                          choices=("constant", "cosine"))
    weight_decay: float = _f(0.05, "decoupled weight decay (adamw) or L2 (the others)", low=0)
    loss: str = _f("mse", "regression loss (classifier heads use bin cross-entropy)", choices=("mse", "l1", "huber"))
    rebalance: float = _f(0.75, "class rebalancing of classifier heads: weight 1/((1-r) prior + r/Q); 0.5 strong "
                                "(Zhang et al.), 1 = none")
    ab_regression: float = _f(30.0, "weight of a Huber term on a classifier's decoded mean ab (0 = pure "
                                    "classification)")
    ema: float = _f(0.999, "decay of an exponential moving average of the weights (0 = off)")
    val_split: float = _f(0.1, "fraction of DATA_DIR held out for validation", group="val")
    val_dir: str = _f("", "separate folder of validation photos", group="val")
    augment: bool = _f(True, "random rotation, shear, zoom and crop")
    flips: bool = _f(True, "horizontal flips (the report left them out on purpose; the default recipe has them)")
    degrade: float = _f(0.3, "share of training inputs given old-photo damage (degrade.py: the film's colour "
                             "response, tone, grain, blur, fading, scratches, ...)")
    consistency: float = _f(0.0, "weight of a term that pulls the answer for an old print toward the averaged "
                                 "weights' (--ema) answer for its clean photo (0 = off)")
    group_weights: dict = _f({}, "draw each top-level subfolder of DATA_DIR with this share of the batches (e.g. "
                                 "general=0.4,people=0.3,food=0.15,objects=0.15; images at the top level are group "
                                 "'.'); every group present needs a weight; {} = every image alike",
                             metavar="GROUP=W,...", parse="group_weights")
    hint_free: float = _f(0.5, "hint models: share of training images given no hint at all")
    init: str = _f("", "start from these weights (a model file, checkpoint or run folder; 'default' = the shipped "
                       "model); layers it lacks keep their fresh start", metavar="MODEL")
    rotation: float = _f(20.0, "augmentation: largest rotation in degrees", low=0)
    shear: float = _f(0.2, "augmentation: largest shear in radians", low=0)
    zoom: float = _f(0.2, "augmentation: scale in [1 - zoom, 1 + zoom]", low=0)
    seed: int = _f(0, "seeds the split, the batches, the augmentation and the weights")
    device: str = _f("auto", "where to train", choices=("auto", "cpu", "cuda"))
    precision: str = _f("auto", "auto: bf16 autocast on CUDA and on CPUs with AMX, fp32 elsewhere; fp32: always",
                        choices=("auto", "fp32"))
    time_budget_min: float = _f(0.0, "stop after this many minutes of training steps; cosine decay follows the "
                                     "clock (0 = off)", low=0)
    checkpoint_every_steps: int = _f(0, "also checkpoint every N steps, so a killed run loses at most N steps "
                                        "(0 = per epoch)", low=0, metavar="N")
    patience: int = _f(0, "stop after N epochs without validation gain (0 = off)", low=0)
    sample_every: int = _f(5, "write a validation sample grid every N epochs (0 = never)", low=0)
    max_images: int = _f(0, "use at most N images (0 = all)", low=0)
    world_size: int = _f(1, "processes that trained the run (set by the run: torchrun's WORLD_SIZE)", flag=False)

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
            ("consistency", self.consistency >= 0 and (not self.consistency or (self.ema and self.degrade)),
             "0 or more, and with --ema and --degrade"),
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
    # Our default recipe: TrainConfig's defaults (its docstring says what they are).
    "default": {},
    # The report's recipe: Beta with three extra convs, Adagrad 1e-3, MSE, its augmentation without
    # flips, batch 15, no hints, damage, EMA or weight decay.
    "seed-beta": dict(model="beta", model_kwargs={"extra_convs": 3}, size=256, optimizer="adagrad", lr=1e-3,
                      loss="mse", batch_size=15, augment=True, flips=False, weight_decay=0.0, lr_schedule="constant",
                      rebalance=0.5, ab_regression=0.0, ema=0.0, degrade=0.0, hint_free=0.0),
    # The default before the ImageNet encoder: the U-Net trained from scratch, no pretrained weights needed.
    "scratch": dict(model="unet", model_kwargs={"hints": True, "depth": 4}, size=192, optimizer="adamw", lr=2e-3,
                    weight_decay=1e-4, batch_size=16, lr_schedule="cosine", rebalance=0.75, ab_regression=10.0,
                    ema=0.999, degrade=0.3, hint_free=0.5, flips=False),
}


def build_config(*, preset: str | None = None, config_file: str | None = None, overrides: dict | None = None,
                 model_options: dict | None = None) -> TrainConfig:
    """Defaults, then a preset, then a JSON config file, then explicit overrides. model_options
    (--model-option) add to the options the recipe gave its model; they belong to that model, so
    overrides naming another architecture start from none."""
    cfg = TrainConfig()
    if preset:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        cfg = cfg.updated(PRESETS[preset])
    if config_file:
        cfg = cfg.updated(json.loads(Path(config_file).read_text()))
    overrides = dict(overrides or {})
    if "model" in overrides and overrides["model"] != cfg.model and "model_kwargs" not in overrides:
        overrides["model_kwargs"] = {}
    cfg = cfg.updated(overrides)
    return cfg.updated({"model_kwargs": {**cfg.model_kwargs, **(model_options or {})}}) if model_options else cfg


def parse_group_weights(text: str) -> dict[str, float]:
    """'general=0.4,people=0.3' (the --group-weights flag) -> {'general': 0.4, 'people': 0.3}."""
    weights = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ValueError(f"expected GROUP=WEIGHT, got {item!r}")
    return weights


def parse_model_option(text: str) -> tuple[str, object]:
    """'KEY=VALUE' (the --model-option flag) -> (key, the value as JSON, else as text)."""
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"--model-option needs KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value
