"""Models on disk: safetensors + JSON config (no pickle), or a training checkpoint."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..fileio import atomic_write
from ._registry import create_model


def save_model(model: nn.Module, path: str | Path, *, half: bool = False) -> Path:
    """Write `path` (.safetensors) and its config beside it (.json); returns the weights path.

    half=True stores floating-point weights as float16 (loaded back as float32).
    """
    path = Path(path)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in model.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(state, tmp))
    atomic_write(path.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(model.config, indent=2)))
    return path


def model_from_config(config: dict) -> nn.Module:
    options = {k: v for k, v in config.items() if k != "name"}
    return create_model(config["name"], **options)


def load_model(path: str | Path) -> nn.Module:
    """A model from a .safetensors file (+ .json beside it), a .pt checkpoint, or a run folder."""
    path = Path(path)
    if path.is_dir():
        path = _pick_from_run(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    if path.suffix == ".safetensors":
        config_path = path.with_suffix(".json")
        if not config_path.exists():
            raise FileNotFoundError(f"{config_path}: the model config that goes with {path.name} is missing")
        model = model_from_config(json.loads(config_path.read_text()))
        state = {k: v.to(model.state_dict()[k].dtype) for k, v in load_file(path).items()}
    else:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model, state = model_from_config(ckpt["model_config"]), ckpt["model"]
    model.load_state_dict(state)
    return model.eval()


def _pick_from_run(run_dir: Path) -> Path:
    for name in ("model.safetensors", "best.pt", "last.pt"):
        if (run_dir / name).exists():
            return run_dir / name
    raise FileNotFoundError(f"{run_dir}: no model.safetensors, best.pt or last.pt in this folder")

