"""Models on disk: safetensors + JSON config (no pickle), or a training checkpoint."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..fileio import atomic_write
from ._registry import create_model
from .files import MODEL_SUFFIXES, resolve


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


class ModelFileError(ValueError):
    """A file that is not a chromatize model (or a damaged one); the message names it."""


def model_from_config(config: dict, *, source: Path | str = "model config") -> nn.Module:
    if not isinstance(config, dict) or "name" not in config:
        raise ModelFileError(f"{source}: the model config has no 'name' (which architecture)")
    options = {k: v for k, v in config.items() if k != "name"}
    return create_model(config["name"], **options)


def load_model(path: str | Path = "default") -> nn.Module:
    """A model from "default", a .safetensors file (+ .json beside it), a .pt checkpoint, or a run
    folder (files.resolve). Checkpoints are read with weights_only=True: nothing but tensors and
    plain values is unpickled."""
    path = resolve(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    if path.suffix not in MODEL_SUFFIXES:
        raise ModelFileError(f"{path}: not a model file (expected .safetensors, .pt or a run folder)")
    try:
        model, state = _read_safetensors(path) if path.suffix == ".safetensors" else _read_checkpoint(path)
        model.load_state_dict(state)
    except ModelFileError:
        raise
    except (RuntimeError, KeyError, TypeError) as err:
        raise ModelFileError(f"{path}: its weights do not fit its architecture ({str(err).splitlines()[0]})") from None
    return model.eval()


DECODE_KNOBS = ("temperature", "chroma_gain")


def set_decode_knobs(model: nn.Module, source: str | Path, **knobs: float | None) -> None:
    """Set the decode knobs given (DECODE_KNOBS; None leaves one as it is) on a bin classifier;
    on any other model it is an error naming `source`."""
    for knob, value in knobs.items():
        if value is None:
            continue
        if knob not in DECODE_KNOBS or not hasattr(model, f"set_{knob}"):
            raise ValueError(f"{source}: {knob} applies to models with a classifier head only")
        getattr(model, f"set_{knob}")(value)


INPUT_OPTIONS = ("equalized",)      # what a network's weights learnt to see (lite_unet's equalized input)


def input_options(path: str | Path, name: str) -> dict:
    """The options of the model at `path` (of an ensemble, its first member) that say what its
    weights learnt to see (INPUT_OPTIONS), for a `name` model started from them: it must see the
    same (init_from copies the weights, not the input they expect)."""
    source = load_model(resolve(path)).primary
    if source.config["name"] != name:
        return {}
    return {k: source.config[k] for k in INPUT_OPTIONS if k in source.config}


def init_from(model: nn.Module, path: str | Path, *, keep: tuple[str, ...] = ()) -> list[str]:
    """Copy into `model` every tensor of the model at `path` ("default", a model file, checkpoint
    or run folder; of an ensemble, its first member) with the same name and shape, and its decode knobs
    (DECODE_KNOBS, those not in `keep`);
    returns the names of `model`'s tensors left as they were (layers the source lacks). A source
    that shares nothing, or a tensor whose shape differs, is an error naming the file."""
    path = resolve(path)
    source = load_model(path)
    source = source.primary                             # an ensemble: its first member
    theirs, ours = source.state_dict(), model.state_dict()
    wrong = [k for k in ours if k in theirs and theirs[k].shape != ours[k].shape]
    if wrong:
        raise ModelFileError(f"{path}: {wrong[0]} has shape {tuple(theirs[wrong[0]].shape)}, "
                             f"this model needs {tuple(ours[wrong[0]].shape)}")
    shared = {k: v.to(ours[k].dtype) for k, v in theirs.items() if k in ours}
    if not shared:
        raise ModelFileError(f"{path}: shares no weights with a {model.config['name']} model of these options")
    model.load_state_dict(shared, strict=False)
    for knob in DECODE_KNOBS:
        if knob in source.config and knob not in keep and hasattr(model, f"set_{knob}"):
            getattr(model, f"set_{knob}")(source.config[knob])
    return sorted(set(ours) - set(shared))


def _read_safetensors(path: Path) -> tuple[nn.Module, dict]:
    config_path = path.with_suffix(".json")
    if not config_path.exists():
        raise FileNotFoundError(f"{config_path}: the model config that goes with {path.name} is missing")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{config_path}: not a JSON model config ({err})") from None
    model = model_from_config(config, source=config_path)
    try:
        weights = load_file(path)
    except Exception as err:                      # safetensors raises its own error types
        raise ModelFileError(f"{path}: not a readable safetensors file ({err})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    if missing:
        raise ModelFileError(f"{path}: weights for {missing[0]} (and {len(missing) - 1} more) are missing; "
                             f"is {config_path.name} the config of these weights?")
    return model, {k: v.to(expected[k].dtype) if k in expected else v for k, v in weights.items()}


def _read_checkpoint(path: Path) -> tuple[nn.Module, dict]:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:                      # unpickling errors of every kind: not our file
        reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        raise ModelFileError(f"{path}: not a chromatize checkpoint ({reason[:120]})") from None
    if not isinstance(ckpt, dict) or "model_config" not in ckpt or "model" not in ckpt:
        raise ModelFileError(f"{path}: not a chromatize checkpoint (no model and model_config inside)")
    return model_from_config(ckpt["model_config"], source=path), ckpt["model"]
