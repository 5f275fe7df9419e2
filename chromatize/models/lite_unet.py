"""The default architecture: an ImageNet-trained EfficientNet-Lite0 encoder and a U-Net decoder.

The encoder (efficientnet_lite.py) knows what things are; the decoder turns that into colour.
Input (B, 1, H, W) l_norm, H and W multiples of 32; with hints, the point-hint maps (B, 3, H, W)
and the reference palette (B, Q + 2) of hint_inputs.py.

    grey    L -> the grey sRGB of that lightness, three equal channels, the encoder's scaling
    stem    EfficientNet stem conv 3->32 /2, + a 3x3/s2 conv of the point maps (zero-initialised,
            so the pretrained stem starts unchanged)                         (B, 32, H/2, W/2)
            equalized="channel": the encoder's third (blue) input channel is the grey of the
            equalized L instead (equalized_l: each pixel's share of the image darker than it),
            which a global change of the tones (fading, a paper's curve, the scanner's levels)
            leaves as it was, so an old print and its clean photo give the network the same
            input there. (Added by a zero-initialised conv beside the stem instead, it stayed
            near zero in 600 steps; in the red and green channels, with L in the blue, it cost
            clean photos more than it won on prints: BENCHMARKS.md, "A tone-blind input")
    encoder taps s4 (24), s8 (40), s16 (112), s32 (320); pooled head features (B, 1280)
    global  pooled (+ reference palette through a linear layer) -> MLP -> (B, d32), broadcast
            over s32 and fused with it by a 3x3 conv                           (B, d32, H/32, W/32)
    up16    x2, concat s16, 3x3 -> d16, 3x3                                     (B, d16, H/16, W/16)
    up8     x2, concat s8, 3x3 -> d8, 3x3                                       (B, d8, H/8, W/8)
    up4     x2, concat s4, 3x3 -> d4, 3x3                                       (B, d4, H/4, W/4)
    points  at each of the four scales the point maps pooled to that
            scale (mean hinted ab, hinted share) join the concatenation: at 1/32 a point is one
            cell that the decoder can carry over its object; at 1/4 it sits where it was put
    spread  the points carried over what looks like them: every 1/8 cell
            attends to the hinted cells by the cosine similarity of its encoder features
            (s8 + s16, projected to 32) plus the log of their hinted share, against a learned
            "no hint" logit; the weighted mean hinted ab and the weight on hints (B, 3, H/8, W/8)
            join up8 and, upsampled, up4. A point then reaches its object and stops where the
            features change, without the decoder's receptive field having to carry it.
    head    1x1 -> Q logits over the ab bins (decoded by the annealed mean of BinColorNet),
            plus (learned gain) x (spread weight) x -(distance of each bin centre
            to the spread colour)^2 / (2 bin_step^2): the spread colour reaches the bins directly.
            While training, forward then returns (logits, the head's own logits), so that the loss
            keeps the head's own logits answering every image, hinted or not (losses.py)

The output is at H/4 like the U-Net's: the full-resolution L supplies the detail.
Training (training/recipe.py) starts the encoder from the ImageNet weights (start_from_imagenet),
gives it a lower learning rate than the decoder (param_groups), and keeps its BatchNorm statistics
frozen (train() leaves the encoder's BatchNorm layers in eval mode): batches of 16 are too few
to re-estimate them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..color import AB_SCALE, denormalize_l, l_to_gray
from .hint_inputs import empty_points, empty_reference, reference_dim
from ._layers import BinColorNet, conv_relu, upsample2
from ._registry import register_model
from .efficientnet_lite import HEAD, STEM, TAP_CHANNELS, EfficientNetLite0, load_pretrained, scale_input

DECODER = (192, 128, 96, 64)        # d32, d16, d8, d4


EQUALIZE_BINS = 64
EQUALIZED = (None, "channel")        # where the equalized L enters (module docstring, "stem")


def equalized_l(l: torch.Tensor, bins: int = EQUALIZE_BINS) -> torch.Tensor:
    """(B, 1, H, W) L in [0, 100] -> the same shape: 100 x the image's cumulative histogram of L at
    each pixel (piecewise linear over `bins` bins of L, so a flat area stays flat). Any increasing
    map of the tones leaves it as it was, up to the bins."""
    b = l.shape[0]
    x = (l.float().clamp(0, 100) * (bins / 100)).flatten(1)                  # (B, N) in bins
    index = x.floor().clamp(max=bins - 1)
    bin_of = index.long()
    share = torch.zeros(b, bins, device=l.device).scatter_add(1, bin_of, torch.ones_like(x)) / x.shape[1]
    below = torch.cumsum(share, dim=1) - share                                # (B, bins) share under each bin
    cdf = below.gather(1, bin_of) + (x - index) * share.gather(1, bin_of)
    return (100 * cdf).reshape(l.shape).to(l.dtype)


def _pooled_points(points: torch.Tensor, scale: int) -> torch.Tensor:
    """(B, 3, H, W) point maps -> (B, 3, H/s, W/s): mean hinted ab_norm per cell and the hinted share."""
    pooled = F.avg_pool2d(points, scale)
    share = pooled[:, 2:]
    return torch.cat((pooled[:, :2] / share.clamp_min(1e-6), share), dim=1)


class HintSpread(nn.Module):
    """(features (B, C, h, w), pooled points (B, 3, h, w) of _pooled_points) -> (B, 3, h, w): per
    cell the attention-weighted mean hinted ab_norm over the hinted cells and the total weight on
    them (0 where the image has no hint). See the module docstring, "spread"."""

    def __init__(self, channels: int, dim: int = 32):
        super().__init__()
        self.project = nn.Conv2d(channels, dim, 1)
        self.sharpness = nn.Parameter(torch.tensor(10.0))
        self.no_hint = nn.Parameter(torch.tensor(0.0))

    def forward(self, features: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        b, _, h, w = features.shape
        q = F.normalize(self.project(features).flatten(2).float(), dim=1)          # (B, d, N)
        ab, share = pooled[:, :2].flatten(2).float(), pooled[:, 2].flatten(1).float()   # (B, 2, N), (B, N)
        logits = self.sharpness * torch.bmm(q.transpose(1, 2), q) + share.clamp_min(1e-6).log()[:, None]  # (B, N, N)
        logits = logits.masked_fill((share <= 0)[:, None], -1e4)
        none = torch.zeros_like(logits[..., :1]) + self.no_hint                    # (B, N, 1)
        weights = torch.softmax(torch.cat((logits, none), dim=2), dim=2)[..., :-1]  # (B, N, N)
        mass = weights.sum(2)                                                       # (B, N)
        spread = torch.bmm(weights, ab.transpose(1, 2)) / mass.clamp_min(1e-6)[..., None]   # (B, N, 2)
        out = torch.cat((spread.transpose(1, 2), mass[:, None]), dim=1)             # (B, 3, N)
        return out.reshape(b, 3, h, w).to(features.dtype)


HINT_SCALES = (4, 8, 16, 32)       # the decoder scales the point maps enter at
# Options of experiments that lost (BENCHMARKS.md keeps their figures, git their code): saved
# configs still name them, at the value every shipped model has.
RETIRED = {"hint_scales": list(HINT_SCALES), "hint_logits": True}


def _check_retired(options: dict) -> None:
    for key, value in options.items():
        if key not in RETIRED:
            raise TypeError(f"lite_unet has no option {key!r}")
        if (list(value) if isinstance(value, (list, tuple)) else value) != RETIRED[key]:
            raise ValueError(f"lite_unet's {key} is {RETIRED[key]!r} since the other settings lost their "
                             f"comparison (BENCHMARKS.md), got {value!r}")


@register_model("lite_unet")
class LiteUNetColorizer(BinColorNet):
    multiple = 32
    takes_hints = True

    def __init__(self, *, head: str = "classification", bin_step: int = 10, temperature: float = 0.38,
                 chroma_gain: float = 0.0, decoder: list[int] | tuple[int, ...] = DECODER,
                 equalized: str | None = None, **retired):
        if len(decoder) != 4 or any(int(c) < 1 for c in decoder):
            raise ValueError(f"decoder must be 4 channel counts (1/32, 1/16, 1/8, 1/4), got {decoder!r}")
        _check_retired(retired)
        if equalized not in EQUALIZED:
            raise ValueError(f"equalized must be one of {EQUALIZED}, got {equalized!r}")
        d32, d16, d8, d4 = (int(c) for c in decoder)
        super().__init__(head=head, bin_step=bin_step, temperature=temperature, chroma_gain=chroma_gain,
                         decoder=[d32, d16, d8, d4], **({"equalized": equalized} if equalized else {}))
        extra = {s: 3 for s in HINT_SCALES}
        self.spread = HintSpread(TAP_CHANNELS[8] + TAP_CHANNELS[16])
        extra[8], extra[4] = extra[8] + 3, extra[4] + 3
        self.encoder = EfficientNetLite0()
        del self.encoder._fc                                   # the ImageNet classes are not used here
        self.hint_stem = nn.Conv2d(3, STEM, 3, stride=2, padding=1, bias=False)
        nn.init.zeros_(self.hint_stem.weight)
        self.equalized = equalized
        self.global_in = nn.Linear(HEAD, d32)
        self.reference_in = nn.Linear(reference_dim(self.bin_centers.shape[0]), d32)
        self.global_mlp = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(d32, d32), nn.ReLU(inplace=True))
        self.fuse = conv_relu(TAP_CHANNELS[32] + d32 + extra[32], d32, norm=True)
        self.up = upsample2()
        self.up16 = nn.Sequential(conv_relu(d32 + TAP_CHANNELS[16] + extra[16], d16, norm=True), conv_relu(d16, d16, norm=True))
        self.up8 = nn.Sequential(conv_relu(d16 + TAP_CHANNELS[8] + extra[8], d8, norm=True), conv_relu(d8, d8, norm=True))
        self.up4 = nn.Sequential(conv_relu(d8 + TAP_CHANNELS[4] + extra[4], d4, norm=True), conv_relu(d4, d4, norm=True))
        self.head = nn.Conv2d(d4, self.out_channels, 1)
        self.hint_logit_gain = nn.Parameter(torch.tensor(1.0))

    def start_from_imagenet(self, path: str | None = None) -> None:
        """Load the encoder's ImageNet weights (efficientnet_lite.load_pretrained; the classifier is dropped)."""
        full = EfficientNetLite0()
        load_pretrained(full, path)
        del full._fc
        self.encoder.load_state_dict(full.state_dict())

    def param_groups(self, lr: float, *, encoder_lr: float) -> list[dict]:
        """Optimizer groups: the pretrained encoder at encoder_lr x lr, everything else at lr."""
        encoder = {id(p) for p in self.encoder.parameters()}
        return [{"params": list(self.encoder.parameters()), "lr": lr * encoder_lr},
                {"params": [p for p in self.parameters() if id(p) not in encoder], "lr": lr}]

    def train(self, mode: bool = True) -> "LiteUNetColorizer":
        super().train(mode)
        for module in self.encoder.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()                                  # ImageNet statistics stay
        return self

    def _with_points(self, parts: list[torch.Tensor], points: torch.Tensor, scale: int) -> torch.Tensor:
        """Concatenate parts and the point maps pooled to 1/scale."""
        return torch.cat(parts + [_pooled_points(points, scale).to(parts[0].dtype)], dim=1)

    def forward(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                reference: torch.Tensor | None = None) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        b, _, h, w = l_norm.shape
        points = empty_points(b, h, w, like=l_norm) if points is None else points.to(l_norm.dtype)
        l = denormalize_l(l_norm.float())
        as_input = lambda light: scale_input(l_to_gray(light)).to(l_norm.dtype)   # noqa: E731  (B, 1, H, W)
        gray = as_input(l)
        rgb = (torch.cat((gray, gray, as_input(equalized_l(l))), dim=1) if self.equalized
               else gray.expand(-1, 3, -1, -1))
        taps, pooled = self.encoder(rgb, extra_stem=self.hint_stem(points))
        if reference is None:
            reference = empty_reference(b, self.bin_centers.shape[0], like=pooled)
        g = self.global_mlp(self.global_in(pooled) + self.reference_in(reference.to(pooled.dtype)))  # (B, d32)
        s32 = taps[32]
        x = self.fuse(self._with_points(
            [s32, g[:, :, None, None].expand(-1, -1, *s32.shape[-2:])], points, 32))  # (B, d32, H/32, W/32)
        x = self.up16(self._with_points([self.up(x), taps[16]], points, 16))   # (B, d16, H/16, W/16)
        spread = self.spread(torch.cat((taps[8], self.up(taps[16])), dim=1),
                             _pooled_points(points, 8).to(taps[8].dtype))               # (B, 3, H/8, W/8)
        x = self.up8(self._with_points([self.up(x), taps[8], spread], points, 8))        # (B, d8, H/8, W/8)
        spread4 = self.up(spread)                                                        # (B, 3, H/4, W/4)
        x = self.up4(self._with_points([self.up(x), taps[4], spread4], points, 4))       # (B, d4, H/4, W/4)
        own = self.head(x)                                                               # (B, Q, H/4, W/4)
        logits = own + self.hint_logit_gain * self._spread_logits(spread4).to(own.dtype)
        return (logits, own) if self.training else logits

    def _spread_logits(self, spread: torch.Tensor) -> torch.Tensor:
        """(B, 3, h, w) spread colour and weight -> (B, Q, h, w): weight x -(bin centre's distance
        to the spread colour)^2 / (2 step^2), in ab_norm units."""
        step = self.config["bin_step"] / AB_SCALE
        ab, weight = spread[:, :2].float(), spread[:, 2:].float()
        centers = self.bin_centers.float()                                             # (Q, 2)
        distance2 = ((ab**2).sum(1, keepdim=True) - 2 * torch.einsum("bchw,qc->bqhw", ab, centers)
                     + (centers**2).sum(1)[None, :, None, None])                       # (B, Q, h, w)
        return -weight * distance2 / (2 * step**2)
