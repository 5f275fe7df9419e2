"""Several trained bin classifiers as one model: the mean of their log-probabilities, decoded once.

    members  each a full model config (name + options), e.g. two runs of the default recipe with
             different seeds; they must share the ab bins and the hint inputs
    forward  (B, 1, H, W) l_norm (+ hints) -> every member -> mean log-probabilities (B, Q, h, w)
    to_ab    the annealed mean and entropy chroma gain of BinColorNet, with the ensemble's own
             temperature and chroma_gain

Why: two runs of one recipe agree on the mean but differ photo by photo, so the mean of their
log-probabilities is surer where they agree and holds colour back where they do not. Two seeds of
the default recipe: +0.14 dB on the tune split and +0.29 dB on test against one of them, 78 %
of test photos better than grey against 68 % (BENCHMARKS.md, "Two seeds as the default"), for
twice the network's time. Video and animation frames run the first member alone where that time
would cost the frame rate (inference.Colorizer.for_frames).
"""
from __future__ import annotations

import torch
from torch import nn

from ._layers import BinColorNet
from ._registry import create_model, register_model


@register_model("ensemble")
class EnsembleColorizer(BinColorNet):

    def __init__(self, *, members: list[dict], temperature: float = 0.5, chroma_gain: float = 0.0,
                 head: str = "classification", bin_step: int | None = None):
        if not isinstance(members, list) or len(members) < 2 or not all(isinstance(m, dict) for m in members):
            raise ValueError(f"members must be a list of at least 2 model configs, got {members!r}")
        built = nn.ModuleList(create_model(m.get("name", ""), **{k: v for k, v in m.items() if k != "name"})
                              for m in members)
        first = built[0]
        for i, member in enumerate(built):
            if not member.is_classifier:
                raise ValueError(f"ensemble member {i} ({member.config['name']}) is not a bin classifier")
            if member.bin_centers.shape != first.bin_centers.shape or member.takes_hints != first.takes_hints:
                raise ValueError(f"ensemble member {i} differs from member 0 in its ab bins or hint inputs")
        if head != "classification" or bin_step not in (None, first.config["bin_step"]):
            raise ValueError(f"an ensemble decodes its members' bins: head classification, bin_step "
                             f"{first.config['bin_step']}; got {head!r}, {bin_step!r}")
        super().__init__(bin_step=first.config["bin_step"], temperature=temperature, chroma_gain=chroma_gain,
                         members=[m.config for m in built])
        self.members = built
        self.multiple = max(m.multiple for m in built)
        self.takes_hints = first.takes_hints

    @classmethod
    def of(cls, models: list[BinColorNet]) -> "EnsembleColorizer":
        """An ensemble holding these trained models' weights, with the first one's decode knobs."""
        first = models[0].config
        ensemble = cls(members=[dict(m.config) for m in models], temperature=first.get("temperature", 0.5),
                       chroma_gain=first.get("chroma_gain", 0.0))
        for target, source in zip(ensemble.members, models):
            target.load_state_dict(source.state_dict())
        return ensemble.eval()

    @property
    def primary(self) -> BinColorNet:
        """The first member: what video frames run alone where time is short, and what a
        fine-tune started from this ensemble (models.init_from) takes."""
        return self.members[0]

    @property
    def parts(self) -> tuple[BinColorNet, ...]:
        return (self, *self.members)

    def forward(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                reference: torch.Tensor | None = None) -> torch.Tensor:
        hints = (points, reference) if self.takes_hints else ()
        logits = [member(l_norm, *hints) for member in self.members]              # each (B, Q, h, w)
        return torch.stack([x.float().log_softmax(1) for x in logits]).mean(0).to(logits[0].dtype)
