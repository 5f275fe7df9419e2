"""The report's Beta encoder-decoder, layer for layer, with its optional deeper variant."""
from __future__ import annotations

import torch
from torch import nn

from ._layers import ColorNet, conv_relu, upsample2
from ._registry import register_model


@register_model("beta")
class BetaNet(ColorNet):
    """conv 64, 64/s2, 128, 128/s2, 256, 256/s2, 512, 256, 128, up, 64, up, 32, conv 2 + tanh, up.

    extra_convs adds that many 3x3 conv-256 layers at the bottleneck (H/8), right after the 512
    layer: there they widen the receptive field for the least compute, which is what the report's
    deeper variant was after.
    """

    multiple = 8

    def __init__(self, *, extra_convs: int = 0):
        super().__init__(extra_convs=extra_convs)
        encoder = [
            conv_relu(1, 64), conv_relu(64, 64, stride=2),        # (B, 64, H/2, W/2)
            conv_relu(64, 128), conv_relu(128, 128, stride=2),    # (B, 128, H/4, W/4)
            conv_relu(128, 256), conv_relu(256, 256, stride=2),   # (B, 256, H/8, W/8)
            conv_relu(256, 512),
        ]
        extra = [conv_relu(512 if i == 0 else 256, 256) for i in range(extra_convs)]
        decoder = [
            conv_relu(256 if extra_convs else 512, 256), conv_relu(256, 128),
            upsample2(), conv_relu(128, 64),                      # (B, 64, H/4, W/4)
            upsample2(), conv_relu(64, 32),                       # (B, 32, H/2, W/2)
            nn.Conv2d(32, 2, 3, padding=1), nn.Tanh(),
            upsample2(),                                          # (B, 2, H, W)
        ]
        self.net = nn.Sequential(*encoder, *extra, *decoder)

    def forward(self, l_norm: torch.Tensor) -> torch.Tensor:
        return self.net(l_norm)
