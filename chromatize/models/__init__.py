"""Model registry, the architectures it knows, and models on disk."""
from . import alpha, beta, ensemble, lite_unet, unet  # noqa: F401  (importing registers them)
from ._io import init_from, load_model, model_from_config, save_model, set_decode_knobs
from ._layers import ColorNet
from .files import DEFAULT_MODEL, resolve
from ._registry import create_model, list_models, register_model

__all__ = ["ColorNet", "create_model", "init_from", "list_models", "load_model", "model_from_config",
           "register_model", "save_model", "set_decode_knobs"]
