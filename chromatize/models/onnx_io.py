"""The network as an ONNX graph (for other programs and for onnxruntime), and a session that runs it.

The graph (export_onnx), dynamic in batch, height and width (multiples of the model's stride):
    inputs   l_norm     (B, 1, h, w) float32, L scaled to [-1, 1] (color.normalize_l)
             points     (B, 3, h, w) point-hint maps (hint_inputs.py); all zeros = no hint   } hint models
             reference  (B, Q + 2) reference palette (hint_inputs.py); all zeros = none       } only
    outputs  ab_norm    (B, 2, h, w) the decoded a,b / 128, the decode knobs baked in
             certainty  (B, 1, h, w) 1 - normalised entropy of the colour distribution, in [0, 1]
             log_probs  (B, Q, h/4, w/4) the colour distribution over the ab bins, before the
                        decode (bin classifiers only; what point hints favour, inference/propagation.py)
Metadata (string properties): "chromatize_config" (the model config, JSON: it names the decode
knobs and the bins), "licence", "model_card" (the card's one-line summary) and "usage".
The colour maths around the network (L from pixels, pasting ab onto the full-resolution L) is
the caller's; chromatize's own Colorizer does it the same way for both runtimes.

OnnxNetwork stands in for a PyTorch model inside inference.Colorizer: the same ab_norm and
ab_norm_and_certainty, run and ab_norm_of (classifiers), multiple, takes_hints and bin_centers.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..color import AB_SCALE, ab_bin_centers
from ..fileio import atomic_write
from ._layers import _at_size, decode_bins
from .card import LICENCE

log = logging.getLogger(__name__)

USAGE = ("L (CIELAB lightness, 0-100) of the photo resized to the model size, as L / 50 - 1 -> l_norm; "
         "ab_norm x 128 -> a,b at that size; upsample a,b to the full image and convert L,a,b to sRGB")


GRAPH_FORMAT = "2"     # bumped when the graph's inputs or outputs change: cached graphs are made again


class _Graph(nn.Module):
    """What the graph computes: the model's forward, its decode and certainty, at input size."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                reference: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        out = self.model.run(l_norm, points, reference)
        if not self.model.is_classifier:
            return self.model.decoded(out, l_norm)
        return (*self.model.decoded(out, l_norm), out.float().log_softmax(1))


def output_names(model: nn.Module) -> list[str]:
    return ["ab_norm", "certainty"] + (["log_probs"] if model.is_classifier else [])


def export_onnx(model: nn.Module, path: str | Path, *, card: str = "") -> Path:
    """Write `model` (a ColorNet) as an ONNX graph with its metadata; returns the path."""
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch.onnx's exporter needs it)
    except ImportError as err:
        raise ImportError(f"exporting to ONNX needs the onnx extra ({err.name} is missing): "
                          "pip install 'chromatize[onnx]'") from err

    model = model.eval().float()
    m = model.multiple
    l_norm = torch.zeros(2, 1, 2 * m, 3 * m)        # a batch of 2: an example batch of 1 can fix it at 1
    names = ["l_norm"]
    example: tuple[torch.Tensor, ...] = (l_norm,)
    batch, h, w = torch.export.Dim("batch", min=1, max=1024), torch.export.Dim("h", min=1, max=512), \
        torch.export.Dim("w", min=1, max=512)
    shapes: list[dict] = [{0: batch, 2: m * h, 3: m * w}]
    if model.takes_hints:
        example += (torch.zeros(2, 3, 2 * m, 3 * m), torch.zeros(2, model.bin_centers.shape[0] + 2))
        names += ["points", "reference"]
        shapes += [{0: batch, 2: m * h, 3: m * w}, {0: batch}]
    program = torch.onnx.export(_Graph(model), example, dynamo=True, input_names=names,
                                output_names=output_names(model), dynamic_shapes=tuple(shapes),
                                verbose=False)
    proto = program.model_proto
    meta = {"chromatize_config": json.dumps(model.config), "licence": LICENCE, "model_card": card,
            "usage": USAGE, "multiple": str(m)}
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=value)
    path = Path(path)
    atomic_write(path, lambda tmp: onnx.save(proto, tmp))
    return path


def cache_folder() -> Path:
    """Where graphs exported for --runtime onnx are kept: $XDG_CACHE_HOME/chromatize (~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chromatize"


def cached_onnx(model_path: str | Path) -> Path:
    """The ONNX graph of a model file, checkpoint or run folder, exported on first use into
    cache_folder() under a name made from the weights' and config's bytes (a changed model gets
    a new graph)."""
    from ._io import load_model
    from .files import model_files

    files = model_files(Path(model_path))
    digest = hashlib.sha256(GRAPH_FORMAT.encode())
    for f in files:
        digest.update(f.read_bytes())
    target = cache_folder() / f"{files[0].stem}-{digest.hexdigest()[:16]}.onnx"
    if not target.exists():
        log.info("exporting %s to ONNX once (%s)", model_path, target)
        export_onnx(load_model(model_path), target)
    return target


class OnnxNetwork:
    """An exported graph in an onnxruntime session, used by inference.Colorizer like a model."""

    def __init__(self, path: str | Path, *, threads: int = 0):
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise ImportError("--runtime onnx needs onnxruntime: pip install onnxruntime") from err
        options = ort.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")   # idle threads sleep: the
        if threads:                                                                 # colour maths around runs too
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as err:                   # onnxruntime raises its own error types
            raise ValueError(f"{path}: not an ONNX graph onnxruntime can run ({str(err).splitlines()[0][:120]})") \
                from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "chromatize_config" not in meta:
            raise ValueError(f"{path}: an ONNX graph, but not one exported by chromatize (no chromatize_config)")
        self.config = json.loads(meta["chromatize_config"])
        self.multiple = int(meta.get("multiple", 32))
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.takes_hints = "points" in self.inputs
        step = self.config.get("bin_step", 10)
        self.bin_centers = ab_bin_centers(step=step) / AB_SCALE                # (Q, 2) ab_norm
        self.is_classifier = "log_probs" in [o.name for o in self.session.get_outputs()]

    @property
    def primary(self) -> "OnnxNetwork":
        return self                     # one graph: an exported ensemble runs whole

    @property
    def parts(self) -> tuple["OnnxNetwork", ...]:
        return (self,)

    def eval(self) -> "OnnxNetwork":
        return self

    def to(self, *args, **kwargs) -> "OnnxNetwork":
        return self

    def ab_norm_and_certainty(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                             reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        ab, sure = self.session.run(["ab_norm", "certainty"], self._feed(l_norm, points, reference))
        return torch.from_numpy(ab), torch.from_numpy(sure)

    def run(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
            reference: torch.Tensor | None = None) -> torch.Tensor:
        """The colour distribution before the decode: (B, Q, h/4, w/4) log-probabilities."""
        [log_probs] = self.session.run(["log_probs"], self._feed(l_norm, points, reference))
        return torch.from_numpy(log_probs)

    def ab_norm_of(self, out: torch.Tensor, l_norm: torch.Tensor) -> torch.Tensor:
        """run()'s output (or one changed after it ran) -> (B, 2, H, W) ab_norm, decoded by the
        knobs the graph was exported with."""
        ab = decode_bins(out, self.bin_centers, temperature=self.config["temperature"],
                         chroma_gain=self.config.get("chroma_gain", 0.0))
        return _at_size(ab, l_norm)

    def _feed(self, l_norm: torch.Tensor, points: torch.Tensor | None,
              reference: torch.Tensor | None) -> dict[str, np.ndarray]:
        b, _, h, w = l_norm.shape
        feed = {"l_norm": _array(l_norm)}
        if self.takes_hints:
            feed["points"] = _array(points) if points is not None else np.zeros((b, 3, h, w), np.float32)
            feed["reference"] = _array(reference) if reference is not None else \
                np.zeros((b, self.bin_centers.shape[0] + 2), np.float32)
        elif points is not None or reference is not None:
            raise ValueError("this model was not trained with hints; colour hints and references need a hint model")
        return feed

    def ab_norm(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                   reference: torch.Tensor | None = None) -> torch.Tensor:
        return self.ab_norm_and_certainty(l_norm, points, reference)[0]


def _array(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().float().cpu().numpy())
