"""A model written out for others: weights + config (.safetensors + .json), or an ONNX graph.

    export(sources, output, half=..., temperature=..., chroma_gain=...)
        sources: model names, files or run folders (models/files.py); several bin classifiers
        become one ensemble (models/ensemble.py, their mean log-probabilities). The decode knobs
        are stored with the model; an ONNX graph of the shipped default carries its card's summary.
"""
from __future__ import annotations

from pathlib import Path

from ._io import load_model, save_model, set_decode_knobs
from .card import is_default, summary
from .ensemble import EnsembleColorizer
from .files import resolve

SUFFIXES = (".safetensors", ".onnx")


def export(sources: list[str | Path], output: str | Path, *, half: bool = False, temperature: float | None = None,
           chroma_gain: float | None = None) -> list[Path]:
    """Write the model; returns the files written (an error names the bad output)."""
    paths = [resolve(source) for source in sources]
    output = Path(output)
    if output.suffix not in SUFFIXES:
        raise ValueError(f"{output}: the output must end in .safetensors or .onnx")
    if any(output.resolve() == path.resolve() for path in paths):
        raise ValueError(f"{output}: the output would replace an input")
    models = [load_model(path) for path in paths]
    model = models[0] if len(models) == 1 else EnsembleColorizer.of(models)
    set_decode_knobs(model, paths[0], temperature=temperature, chroma_gain=chroma_gain)
    if output.suffix == ".onnx":
        from .onnx_io import export_onnx

        card = summary() if len(sources) == 1 and is_default(sources[0]) else ""
        return [export_onnx(model, output, card=card)]
    path = save_model(model, output, half=half)
    return [path, path.with_suffix(".json")]
