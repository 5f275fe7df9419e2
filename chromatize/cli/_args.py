"""Argument types shared by the subcommands: bounded numbers, parsers that raise ValueError."""
from __future__ import annotations

import argparse

MAX_SIZE = 4096             # the largest --size a model may see


def number(kind: type, lo: float | None = None, hi: float | None = None):
    """An argparse type: `kind` within [lo, hi], or an error that shows the value and the range."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = f"from {lo} to {hi}" if lo is not None and hi is not None else \
                (f"at least {lo}" if lo is not None else f"at most {hi}")
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse

def flag_type(parse):
    """An argparse type from a parser that raises ValueError with its message."""
    def flag(text: str):
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    flag.__name__ = parse.__name__
    return flag
