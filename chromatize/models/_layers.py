"""Building blocks shared by the architectures, and the base class every model derives from."""
from __future__ import annotations

import torch
from torch import nn


def conv_relu(c_in: int, c_out: int, *, stride: int = 1, dilation: int = 1, norm: bool = False) -> nn.Sequential:
    """3x3 convolution (+ optional BatchNorm) + ReLU, 'same' padding."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=dilation,
                                         dilation=dilation, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def upsample2() -> nn.Upsample:
    return nn.Upsample(scale_factor=2, mode="nearest")


class Colorizer2d(nn.Module):
    """Base class: forward(l_norm) returns the raw output; to_ab() turns it into ab_norm.

    l_norm: (B, 1, H, W) in [-1, 1]. H and W must be multiples of `multiple`.
    Regression models return ab_norm (B, 2, H, W) in [-1, 1] directly.
    Models with `takes_hints` also take forward(l_norm, points, reference) (see hints.py).
    """

    multiple: int = 8
    registry_name: str = ""
    takes_hints: bool = False

    def __init__(self, **config):
        super().__init__()
        self.config = {"name": self.registry_name, **config}

    def to_ab(self, out: torch.Tensor) -> torch.Tensor:
        return out

    def predict_ab(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                   reference: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, H, W) l_norm (+ hints, see hints.py) -> (B, 2, H, W) ab_norm in [-1, 1]."""
        if self.takes_hints:
            ab = self.to_ab(self(l_norm, points, reference))
        elif points is not None or reference is not None:
            raise ValueError(f"model {self.registry_name!r} was not trained with hints; "
                             "colour hints and references need a hint model (e.g. the default)")
        else:
            ab = self.to_ab(self(l_norm))
        if ab.shape[-2:] != l_norm.shape[-2:]:
            ab = nn.functional.interpolate(ab, size=l_norm.shape[-2:], mode="bilinear", align_corners=False)
        return ab
