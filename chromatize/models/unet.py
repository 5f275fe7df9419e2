"""Our default architecture: a light U-Net with a global-context branch, built for CPU speed.

Layout (input (B, 1, H, W), H and W multiples of 16; with hints=True (B, 4, H, W): L and the
point-hint maps of hints.py):
    stem   3x3/s2 1(4)->c1, 3x3 c1->c1              (B, c1, H/2, W/2)
    down1  3x3/s2 c1->c2, 3x3 c2->c2                (B, c2, H/4, W/4)   skip s4
    down2  3x3/s2 c2->c3, 3x3 c3->c3                (B, c3, H/8, W/8)   skip s8
    down3  3x3/s2 c3->c4, `depth` dilated 3x3 c4->c4 (dilation 2, 2, 4, 4, ...)  (B, c4, H/16, W/16)
    hint_pyramid (option, off in the default): the point hints, pooled to H/4, H/8 and H/16 (mean
           hinted ab per cell and the share of the cell hinted), each through a small 1x1 net added
           to the decoder's input at that scale (zero-initialised: a model fine-tuned from one
           without the pyramid starts out unchanged). Tried as a 55-minute fine-tune of the default:
           it followed points better on its own but, with hints.propagate, scored below the
           default on the tune split (BENCHMARKS.md, "Colour hints"), so the default does without
    attention (option, `attention=N`): N self-attention blocks over the H/16 cells after the
           fusion (pre-norm, 4 heads, a 1x1 feed-forward; no position code: the convolutions
           before them carry where a cell is), so every cell sees the whole photo. Tried at
           width 32 with flips for 105 minutes: it overfit the 564 training photos and scored
           0.24 dB below the default on the tune split (BENCHMARKS.md, "Quality on the test
           split"), so the default does without
    global mean-pool of down3 (+ with hints, the reference palette (B, Q + 2) through a linear
           layer) -> MLP -> (B, c4), broadcast and fused into the bottleneck by a 1x1 conv over
           [local, global] (Iizuka et al. 2016's fusion layer, no downloaded backbone)
    up1    x2, concat s8, 3x3 -> c3, 3x3             (B, c3, H/8, W/8)
    up2    x2, concat s4, 3x3 -> c2, 3x3             (B, c2, H/4, W/4)
    head   1x1 -> Q logits over ab bins (classification, decoded by annealed mean) or 2 + tanh
The output is at H/4: colour is smooth, and the full-resolution L supplies the detail. Nothing
runs at full resolution but the 1->c1 stem, so the cost per input pixel is small.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..color import AB_SCALE, ab_bin_centers
from ..hints import empty_points, empty_reference, reference_dim
from ._layers import Colorizer2d, conv_relu, upsample2
from ._registry import register_model

HEADS = ("classification", "regression")


class BottleneckAttention(nn.Module):
    """Pre-norm self-attention + feed-forward over the cells of a (B, C, h, w) map, residual."""

    def __init__(self, channels: int, heads: int = 4):
        super().__init__()
        self.norm1, self.norm2 = nn.GroupNorm(1, channels), nn.GroupNorm(1, channels)
        self.attn = nn.MultiheadAttention(channels, heads, batch_first=True)
        self.ff = nn.Sequential(nn.Conv2d(channels, 2 * channels, 1), nn.ReLU(inplace=True),
                                nn.Conv2d(2 * channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        tokens = self.norm1(x).flatten(2).transpose(1, 2)                  # (B, h*w, C)
        mixed, _ = self.attn(tokens, tokens, tokens, need_weights=False)
        x = x + mixed.transpose(1, 2).reshape(b, c, h, w)
        return x + self.ff(self.norm2(x))


def _hint_net(channels: int) -> nn.Sequential:
    """(ab, share) per cell -> decoder features; the last layer starts at zero."""
    net = nn.Sequential(nn.Conv2d(3, 32, 1), nn.ReLU(inplace=True), nn.Conv2d(32, channels, 1))
    nn.init.zeros_(net[2].weight)
    nn.init.zeros_(net[2].bias)
    return net


@register_model("unet")
class UNetColorizer(Colorizer2d):
    multiple = 16

    def __init__(self, *, width: int = 24, head: str = "classification", bin_step: int = 10,
                 temperature: float = 0.38, hints: bool = False, depth: int = 2, chroma_gain: float = 0.0,
                 hint_pyramid: bool = False, attention: int = 0):
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        if chroma_gain < 0:
            raise ValueError(f"chroma_gain must be >= 0, got {chroma_gain}")
        if attention < 0:
            raise ValueError(f"attention must be 0 or more blocks, got {attention}")
        if hint_pyramid and not hints:
            raise ValueError("hint_pyramid needs hints=True")
        options = {"hint_pyramid": hint_pyramid, "attention": attention}    # in the config only when set
        super().__init__(width=width, head=head, bin_step=bin_step, temperature=temperature, hints=hints,
                         depth=depth, chroma_gain=chroma_gain, **{k: v for k, v in options.items() if v})
        c1, c2, c3, c4 = width, 2 * width, 4 * width, 8 * width
        self.temperature, self.chroma_gain, self.takes_hints = temperature, chroma_gain, hints
        self.stem = nn.Sequential(conv_relu(4 if hints else 1, c1, stride=2, norm=True), conv_relu(c1, c1, norm=True))
        self.down1 = nn.Sequential(conv_relu(c1, c2, stride=2, norm=True), conv_relu(c2, c2, norm=True))
        self.down2 = nn.Sequential(conv_relu(c2, c3, stride=2, norm=True), conv_relu(c3, c3, norm=True))
        self.down3 = nn.Sequential(conv_relu(c3, c4, stride=2, norm=True),
                                   *(conv_relu(c4, c4, dilation=2 if i < 2 else 4, norm=True) for i in range(depth)))
        self.attention = nn.Sequential(*(BottleneckAttention(c4) for _ in range(attention)))
        self.global_mlp = nn.Sequential(nn.Linear(c4, c4), nn.ReLU(inplace=True), nn.Linear(c4, c4),
                                        nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(nn.Conv2d(2 * c4, c4, 1, bias=False), nn.BatchNorm2d(c4), nn.ReLU(inplace=True))
        self.up = upsample2()
        self.up1 = nn.Sequential(conv_relu(c4 + c3, c3, norm=True), conv_relu(c3, c3, norm=True))
        self.up2 = nn.Sequential(conv_relu(c3 + c2, c2, norm=True), conv_relu(c2, c2, norm=True))
        centers = ab_bin_centers(step=bin_step) / AB_SCALE            # (Q, 2) in ab_norm units
        self.register_buffer("bin_centers", centers)
        out_channels = centers.shape[0] if head == "classification" else 2
        self.head = nn.Conv2d(c2, out_channels, 1)
        if hints:
            self.reference_in = nn.Linear(reference_dim(centers.shape[0]), c4)
        self.hint_in = nn.ModuleDict({str(s): _hint_net(c) for s, c in ((16, c4), (8, c4), (4, c3))}) \
            if hint_pyramid else None

    def set_temperature(self, temperature: float) -> None:
        """Annealed-mean temperature: 1 = the plain mean (drifts to the gamut's reddish centroid when
        unsure), towards 0 = the most likely bin (vivid, can be patchy)."""
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature
        self.config["temperature"] = temperature

    @property
    def is_classifier(self) -> bool:
        return self.config["head"] == "classification"

    def forward(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                reference: torch.Tensor | None = None) -> torch.Tensor:
        b, _, h, w = l_norm.shape
        if self.takes_hints:
            points = empty_points(b, h, w, like=l_norm) if points is None else points.to(l_norm.dtype)
            l_norm = torch.cat((l_norm, points), dim=1)          # (B, 4, H, W)
        extra = self._hint_pyramid(points) if self.hint_in is not None else {16: 0, 8: 0, 4: 0}
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
        x = self.attention(self.fuse(torch.cat((s16, g), dim=1))) + extra[16]   # (B, c4, H/16, W/16)
        x = self.up1(torch.cat((self.up(x) + extra[8], s8), dim=1))   # (B, c3, H/8, W/8)
        x = self.up2(torch.cat((self.up(x) + extra[4], s4), dim=1))   # (B, c2, H/4, W/4)
        out = self.head(x)                                       # (B, Q or 2, H/4, W/4)
        return out if self.is_classifier else torch.tanh(out)

    def _hint_pyramid(self, points: torch.Tensor) -> dict[int, torch.Tensor]:
        """(B, 3, H, W) point hints -> {scale: features added to the decoder at H/scale}."""
        out = {}
        for scale, net in self.hint_in.items():
            pooled = F.avg_pool2d(points, int(scale))                         # (B, 3, H/s, W/s)
            share = pooled[:, 2:]
            ab = pooled[:, :2] / share.clamp_min(1e-6)                       # mean hinted ab per cell
            out[int(scale)] = net(torch.cat((ab, share), dim=1))
        return out

    def set_chroma_gain(self, gain: float) -> None:
        """How strongly an unsure prediction is pulled towards grey (see to_ab); 0 = not at all."""
        if gain < 0:
            raise ValueError(f"chroma_gain must be >= 0, got {gain}")
        self.chroma_gain = gain
        self.config["chroma_gain"] = gain

    def to_ab(self, out: torch.Tensor) -> torch.Tensor:
        """Logits -> ab_norm by the annealed mean (Zhang et al. 2016); regression passes through.

        Confidence: with chroma_gain k > 0 the colour is scaled by (1 - H / log Q) ** k, H the
        entropy of the predicted distribution: where the model is unsure which colour it is
        (a broad or many-peaked distribution), it holds colour back instead of guessing vividly.
        """
        if not self.is_classifier:
            return out
        logits = out.float()
        probs = torch.softmax(logits / self.temperature, dim=1)               # (B, Q, h, w)
        ab = torch.einsum("bqhw,qc->bchw", probs, self.bin_centers.float())   # (B, 2, h, w)
        if self.chroma_gain:
            p = torch.softmax(logits, dim=1)
            entropy = -(p * torch.log(p.clamp_min(1e-12))).sum(1, keepdim=True)   # (B, 1, h, w)
            certainty = (1 - entropy / math.log(p.shape[1])).clamp(0, 1)
            ab = ab * certainty**self.chroma_gain
        return ab.to(out.dtype)
