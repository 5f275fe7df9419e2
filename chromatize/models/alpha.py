"""The report's Alpha net: a tiny encoder-decoder fitted to one image."""
from __future__ import annotations

import torch
from torch import nn

from ._layers import ColorNet, conv_relu, upsample2
from ._registry import register_model


@register_model("alpha")
class AlphaNet(ColorNet):
    """Stride-2 convs 8-16-32, three 2x upsamplings back to full size, 2 channels + tanh."""

    multiple = 8

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            conv_relu(1, 8, stride=2), conv_relu(8, 8),       # (B, 8, H/2, W/2)
            conv_relu(8, 16), conv_relu(16, 16, stride=2),    # (B, 16, H/4, W/4)
            conv_relu(16, 32), conv_relu(32, 32, stride=2),   # (B, 32, H/8, W/8)
            upsample2(), conv_relu(32, 32),                   # (B, 32, H/4, W/4)
            upsample2(), conv_relu(32, 16),                   # (B, 16, H/2, W/2)
            upsample2(), nn.Conv2d(16, 2, 3, padding=1), nn.Tanh(),  # (B, 2, H, W)
        )

    def forward(self, l_norm: torch.Tensor) -> torch.Tensor:
        return self.net(l_norm)
