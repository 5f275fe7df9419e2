"""Building blocks shared by the architectures, the base classes every model derives from, and the
decode of a colour distribution.

    ColorNet      the base: forward(l_norm [, points, reference]) -> raw output; to_ab() -> ab_norm
                  (B, 2, H, W) in [-1, 1]; certainty() -> (B, 1, H, W) in [0, 1]; run/ab_norm/decoded
                  are what inference calls (hint inputs: models/hint_inputs.py)
    BinColorNet   a ColorNet whose head is logits over Q quantised ab bins (bin_step 10 -> Q = 259
                  in gamut; Zhang et al.); it owns the decode knobs
    decode_bins   the annealed mean (Zhang et al.): softmax(logits / T) over the bins times their
                  centres, T = `temperature` (lower = more vivid, riskier); then the colour is scaled
                  by certainty ** chroma_gain, so what the model is unsure of is held back
    certainty     1 - the normalised entropy of the distribution (1 = one bin, 0 = all alike)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..color import AB_SCALE, ab_bin_centers



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


class ColorNet(nn.Module):
    """Base class: forward(l_norm) returns the raw output; to_ab() turns it into ab_norm.

    l_norm: (B, 1, H, W) in [-1, 1]. H and W must be multiples of `multiple`.
    Regression models return ab_norm (B, 2, H, W) in [-1, 1] directly.
    Models with `takes_hints` also take forward(l_norm, points, reference) (see hint_inputs.py).
    """

    multiple: int = 8
    registry_name: str = ""
    takes_hints: bool = False
    is_classifier: bool = False         # BinColorNet: True for the classification head

    def __init__(self, **config):
        super().__init__()
        self.config = {"name": self.registry_name, **config}

    @property
    def primary(self) -> "ColorNet":
        """The network to run alone where time is short, and to fine-tune from: this one (an
        ensemble: its first member)."""
        return self

    @property
    def parts(self) -> tuple["ColorNet", ...]:
        """This model and the networks inside it that decode on their own (an ensemble's members)."""
        return (self,)

    def to_ab(self, out: torch.Tensor) -> torch.Tensor:
        return out

    def certainty(self, out: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) raw output -> (B, 1, h, w) how sure the model is, in [0, 1]; a regression
        model has no distribution to read it from: 1 everywhere."""
        return torch.ones_like(out[:, :1])

    def run(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
            reference: torch.Tensor | None = None) -> torch.Tensor:
        """forward, with the hints passed only to a model that takes them (an error otherwise); of
        a training output (logits, the head's own: hint-logit models) the logits."""
        if self.takes_hints:
            out = self(l_norm, points, reference)
            return out[0] if isinstance(out, tuple) else out
        if points is not None or reference is not None:
            raise ValueError(f"model {self.registry_name!r} was not trained with hints; "
                             "colour hints and references need a hint model (e.g. the default)")
        return self(l_norm)

    def ab_norm(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                   reference: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, H, W) l_norm (+ hints, see hint_inputs.py) -> (B, 2, H, W) ab_norm in [-1, 1]."""
        return self.ab_norm_of(self.run(l_norm, points, reference), l_norm)

    def ab_norm_of(self, out: torch.Tensor, l_norm: torch.Tensor) -> torch.Tensor:
        """run()'s raw output for l_norm (or one changed after it ran) -> (B, 2, H, W) ab_norm."""
        return _at_size(self.to_ab(out), l_norm)

    def ab_norm_and_certainty(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                             reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """As ab_norm, and the (B, 1, H, W) certainty in [0, 1] (see certainty) from the same run."""
        return self.decoded(self.run(l_norm, points, reference), l_norm)

    def decoded(self, out: torch.Tensor, l_norm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """run()'s raw output for l_norm -> (ab_norm, certainty), both at l_norm's size."""
        return self.ab_norm_of(out, l_norm), _at_size(self.certainty(out).to(out.dtype), l_norm)


def _at_size(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B, C, H, W) of `like`, bilinear."""
    if x.shape[-2:] == like.shape[-2:]:
        return x
    return nn.functional.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class BinColorNet(ColorNet):
    """Base of the models whose head is logits over the ab bins: the bins (buffer `bin_centers`,
    (Q, 2) in ab_norm) and the decode from logits to ab_norm. (Its regression head, 2 + tanh, lost
    its comparison and left; `head` stays in saved configs, as "classification".)"""

    is_classifier = True

    def __init__(self, *, head: str = "classification", bin_step: int = 10, temperature: float = 0.38,
                 chroma_gain: float = 0.0, **config):
        if head != "classification":
            raise ValueError(f"head must be 'classification' (the regression head of bin models lost its "
                             f"comparison, BENCHMARKS.md), got {head!r}")
        if chroma_gain < 0:
            raise ValueError(f"chroma_gain must be >= 0, got {chroma_gain}")
        super().__init__(head=head, bin_step=bin_step, temperature=temperature, chroma_gain=chroma_gain, **config)
        self.temperature, self.chroma_gain = temperature, chroma_gain
        self.register_buffer("bin_centers", ab_bin_centers(step=bin_step) / AB_SCALE)   # (Q, 2) ab_norm

    @property
    def out_channels(self) -> int:
        return self.bin_centers.shape[0]

    def set_temperature(self, temperature: float) -> None:
        """Annealed-mean temperature: 1 = the plain mean (drifts to the gamut's reddish centroid when
        unsure), towards 0 = the most likely bin (vivid, can be patchy)."""
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature
        self.config["temperature"] = temperature

    def set_chroma_gain(self, gain: float) -> None:
        """How strongly an unsure prediction is pulled towards grey (see to_ab); 0 = not at all."""
        if gain < 0:
            raise ValueError(f"chroma_gain must be >= 0, got {gain}")
        self.chroma_gain = gain
        self.config["chroma_gain"] = gain

    def to_ab(self, out: torch.Tensor) -> torch.Tensor:
        """Logits -> ab_norm by the annealed mean (Zhang et al. 2016).

        Confidence: with chroma_gain k > 0 the colour is scaled by (1 - H / log Q) ** k, H the
        entropy of the predicted distribution: where the model is unsure which colour it is
        (a broad or many-peaked distribution), it holds colour back instead of guessing vividly.
        """
        return decode_bins(out, self.bin_centers, temperature=self.temperature, chroma_gain=self.chroma_gain)

    def certainty(self, out: torch.Tensor) -> torch.Tensor:
        """1 - the normalised entropy of the predicted colour distribution: 1 = one bin for sure,
        0 = every bin alike."""
        return certainty(out)


def decode_bins(logits: torch.Tensor, centers: torch.Tensor, *, temperature: float,
                chroma_gain: float) -> torch.Tensor:
    """(B, Q, h, w) logits, (Q, 2) bin centres in ab_norm -> (B, 2, h, w) ab_norm: the annealed
    mean, scaled by certainty ** chroma_gain (BinColorNet.to_ab)."""
    x = logits.float()
    probs = torch.softmax(x / temperature, dim=1)                             # (B, Q, h, w)
    ab = torch.einsum("bqhw,qc->bchw", probs, centers.float().to(x.device))  # (B, 2, h, w)
    if chroma_gain:
        ab = ab * certainty(x) ** chroma_gain
    return ab.to(logits.dtype)


def certainty(logits: torch.Tensor) -> torch.Tensor:
    """(B, Q, h, w) logits -> (B, 1, h, w) 1 - normalised entropy of softmax(logits), in [0, 1]."""
    p = torch.softmax(logits.float(), dim=1)
    entropy = -(p * torch.log(p.clamp_min(1e-12))).sum(1, keepdim=True)
    return (1 - entropy / math.log(p.shape[1])).clamp(0, 1)
