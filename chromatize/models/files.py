"""Where models are on disk: the shipped default, model files and training run folders.

What a user may name as a model, and the file resolve() reads for it:
    "default"        the model that ships in the package (chromatize/weights/default.safetensors)
    NAME.safetensors weights, with their config NAME.json beside them (save_model writes both)
    NAME.pt          a training checkpoint (weights and config in one file)
    a run folder     its model.safetensors, else best.pt, else last.pt

A run folder (training/loop.py and training/recipe.py write it; this module owns the names):
    config.json      the full TrainConfig           history.csv   per-epoch losses and speed
    loss.png         the loss curves                last.pt       the latest checkpoint
    best.pt          the best validation epoch      model.safetensors + model.json   best.pt exported
    val_images.txt   the validation photos          samples/      validation sample grids
"""
from __future__ import annotations

from pathlib import Path

DEFAULT_NAME = "default"
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "weights" / "default.safetensors"
MODEL_SUFFIXES = (".safetensors", ".pt")

RUN_CONFIG = "config.json"
RUN_HISTORY = "history.csv"
RUN_PLOT = "loss.png"
RUN_LAST = "last.pt"
RUN_BEST = "best.pt"
RUN_MODEL = "model.safetensors"
RUN_VAL_LIST = "val_images.txt"
RUN_SAMPLES = "samples"
RUN_FILES = (RUN_CONFIG, RUN_HISTORY, RUN_PLOT, RUN_LAST, RUN_BEST, RUN_MODEL, "model.json", RUN_VAL_LIST)
RUN_WEIGHTS = (RUN_MODEL, RUN_BEST, RUN_LAST)        # the order a run folder's model is picked in


def resolve(model: str | Path) -> Path:
    """"default", a model file or a run folder -> the file to read (see the module docstring)."""
    if str(model) == DEFAULT_NAME:
        return DEFAULT_MODEL
    path = Path(model)
    if not path.is_dir():
        return path
    for name in RUN_WEIGHTS:
        if (path / name).exists():
            return path / name
    raise FileNotFoundError(f"{path}: no {', '.join(RUN_WEIGHTS[:-1])} or {RUN_WEIGHTS[-1]} in this folder")


def is_run_folder(path: Path) -> bool:
    """A folder that holds a model (resolve() would find one in it)."""
    return path.is_dir() and any((path / name).exists() for name in RUN_WEIGHTS)


def model_files(model: str | Path) -> list[Path]:
    """The files a model is read from: the weights resolve() picks, and a .safetensors' config."""
    path = resolve(model)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    return [path, path.with_suffix(".json")] if path.suffix == ".safetensors" else [path]
