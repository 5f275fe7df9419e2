"""Models: the registry (_registry.py) and one architecture a file (alpha, beta, unet, lite_unet with
its pretrained encoder efficientnet_lite.py, ensemble), their shared layers and decode (_layers.py),
the hint tensors they take (hint_inputs.py), and a model's identity: where it is on disk
(files.py: "default", a file, a run folder), its card and licence (card.py), reading and writing it
(_io.py: safetensors + JSON config), export (export.py; ONNX graphs: onnx_io.py). Imports only the
base modules (color, fileio)."""
from . import alpha, beta, ensemble, lite_unet, unet  # noqa: F401  (importing registers them)
from ._io import init_from, input_options, load_model, model_from_config, save_model, set_decode_knobs
from ._layers import ColorNet
from .files import DEFAULT_MODEL, resolve
from ._registry import create_model, list_models, register_model

__all__ = ["ColorNet", "create_model", "init_from", "input_options", "list_models", "load_model", "model_from_config",
           "register_model", "save_model", "set_decode_knobs"]
