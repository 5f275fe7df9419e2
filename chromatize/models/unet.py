"""A light U-Net with a global-context branch, trained from scratch (no pretrained parts).

It was the default architecture until the ImageNet-encoder model (lite_unet.py) replaced it;
it stays for training on your own photos without any pretrained weights.

Layout (input (B, 1, H, W), H and W multiples of 16; with hints=True (B, 4, H, W): L and the
point-hint maps of hint_inputs.py):
    stem   3x3/s2 1(4)->c1, 3x3 c1->c1              (B, c1, H/2, W/2)
    down1  3x3/s2 c1->c2, 3x3 c2->c2                (B, c2, H/4, W/4)   skip s4
    down2  3x3/s2 c2->c3, 3x3 c3->c3                (B, c3, H/8, W/8)   skip s8
    down3  3x3/s2 c3->c4, `depth` dilated 3x3 c4->c4 (dilation 2, 2, 4, 4, ...)  (B, c4, H/16, W/16)
    global mean-pool of down3 (+ with hints, the reference palette (B, Q + 2) through a linear
           layer) -> MLP -> (B, c4), broadcast and fused into the bottleneck by a 1x1 conv over
           [local, global] (Iizuka et al. 2016's fusion layer)
    up1    x2, concat s8, 3x3 -> c3, 3x3             (B, c3, H/8, W/8)
    up2    x2, concat s4, 3x3 -> c2, 3x3             (B, c2, H/4, W/4)
    head   1x1 -> Q logits over ab bins (decoded by the annealed mean)
The output is at H/4: colour is smooth, and the full-resolution L supplies the detail.
Two options that lost their comparison left the code (BENCHMARKS.md keeps their figures): a
point-hint pyramid into the decoder and self-attention at H/16.
"""
from __future__ import annotations

import torch
from torch import nn

from .hint_inputs import empty_points, empty_reference, reference_dim
from ._layers import BinColorNet, conv_relu, upsample2
from ._registry import register_model


@register_model("unet")
class UNetColorizer(BinColorNet):
    multiple = 16

    def __init__(self, *, width: int = 24, head: str = "classification", bin_step: int = 10,
                 temperature: float = 0.38, hints: bool = False, depth: int = 2, chroma_gain: float = 0.0):
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        super().__init__(width=width, head=head, bin_step=bin_step, temperature=temperature, hints=hints,
                         depth=depth, chroma_gain=chroma_gain)
        c1, c2, c3, c4 = width, 2 * width, 4 * width, 8 * width
        self.takes_hints = hints
        self.stem = nn.Sequential(conv_relu(4 if hints else 1, c1, stride=2, norm=True), conv_relu(c1, c1, norm=True))
        self.down1 = nn.Sequential(conv_relu(c1, c2, stride=2, norm=True), conv_relu(c2, c2, norm=True))
        self.down2 = nn.Sequential(conv_relu(c2, c3, stride=2, norm=True), conv_relu(c3, c3, norm=True))
        self.down3 = nn.Sequential(conv_relu(c3, c4, stride=2, norm=True),
                                   *(conv_relu(c4, c4, dilation=2 if i < 2 else 4, norm=True) for i in range(depth)))
        self.global_mlp = nn.Sequential(nn.Linear(c4, c4), nn.ReLU(inplace=True), nn.Linear(c4, c4),
                                        nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(nn.Conv2d(2 * c4, c4, 1, bias=False), nn.BatchNorm2d(c4), nn.ReLU(inplace=True))
        self.up = upsample2()
        self.up1 = nn.Sequential(conv_relu(c4 + c3, c3, norm=True), conv_relu(c3, c3, norm=True))
        self.up2 = nn.Sequential(conv_relu(c3 + c2, c2, norm=True), conv_relu(c2, c2, norm=True))
        self.head = nn.Conv2d(c2, self.out_channels, 1)
        if hints:
            self.reference_in = nn.Linear(reference_dim(self.bin_centers.shape[0]), c4)

    def forward(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                reference: torch.Tensor | None = None) -> torch.Tensor:
        b, _, h, w = l_norm.shape
        if self.takes_hints:
            points = empty_points(b, h, w, like=l_norm) if points is None else points.to(l_norm.dtype)
            l_norm = torch.cat((l_norm, points), dim=1)          # (B, 4, H, W)
        s2 = self.stem(l_norm)                                   # (B, c1, H/2, W/2)
        s4 = self.down1(s2)                                      # (B, c2, H/4, W/4)
        s8 = self.down2(s4)                                      # (B, c3, H/8, W/8)
        s16 = self.down3(s8)                                     # (B, c4, H/16, W/16)
        pooled = s16.mean(dim=(2, 3))                            # (B, c4)
        if self.takes_hints:
            if reference is None:
                reference = empty_reference(b, self.bin_centers.shape[0], like=pooled)
            pooled = pooled + self.reference_in(reference.to(pooled.dtype))
        g = self.global_mlp(pooled)                              # (B, c4)
        g = g[:, :, None, None].expand_as(s16)                   # (B, c4, H/16, W/16)
        x = self.fuse(torch.cat((s16, g), dim=1))                # (B, c4, H/16, W/16)
        x = self.up1(torch.cat((self.up(x), s8), dim=1))         # (B, c3, H/8, W/8)
        x = self.up2(torch.cat((self.up(x), s4), dim=1))         # (B, c2, H/4, W/4)
        return self.head(x)                                      # (B, Q, H/4, W/4)
