"""Inference: a model turned into colour for a user's photo.

    colorizer.py    Colorizer and load(): L in, ab predicted small, pasted onto the full-resolution L
                    (images.save_colorized); hints and a reference enter here
    points.py       the user's side of hints: colour points (Point, parse_color), hints files and JSON,
                    point maps at model resolution (the tensor contract is models/hint_inputs.py)
    propagation.py  after the network: points followed into their regions, a reference's palette
    faces.py        the skin step on photos (YuNet faces on the grey input)

Imports models and the base modules (color, images, runtime, metadata); media, evaluation, app and
cli build on it.
"""
from .colorizer import DEFAULT_SIZE, RUNTIMES, Colorizer, colorize_image, load, load_network, run_folders

__all__ = ["DEFAULT_SIZE", "RUNTIMES", "Colorizer", "colorize_image", "load", "load_network", "run_folders"]
