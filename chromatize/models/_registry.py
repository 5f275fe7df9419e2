"""A small model registry: architectures register by name; create_model builds them."""
from __future__ import annotations

from typing import Callable

from torch import nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable:
    """Class decorator: make an architecture available as create_model(name, **kw)."""

    def add(cls):
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = cls
        cls.registry_name = name
        return cls

    return add


def list_models() -> list[str]:
    return sorted(_MODELS)


def create_model(name: str, **kwargs) -> nn.Module:
    """Build a registered model; unknown names and options fail with the valid choices."""
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(list_models())}")
    try:
        return _MODELS[name](**kwargs)
    except TypeError as err:
        raise ValueError(f"bad options for model {name!r}: {err}") from err
