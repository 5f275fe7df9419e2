"""Several trained bin classifiers as one model: the mean of their logits, decoded once.

    members  each a full model config (name + options), e.g. two runs of the default recipe;
             they must share the head (classification), the ab bins and the hint inputs
    forward  (B, 1, H, W) l_norm (+ hints) -> every member -> mean logits (B, Q, H/4, W/4)
    to_ab    the first member's decode (annealed mean + entropy chroma gain) with the
             ensemble's own temperature and chroma_gain

Why: two runs of one recipe agree on the mean but differ photo by photo (0.87 dB standard
deviation of the per-photo difference on the test split), so the mean of their logits is surer
where they agree and holds colour back where they do not. The shipped default (two members) is
0.15 dB above one member on the tune split for twice the model compute (BENCHMARKS.md, "Quality
on the test split"). Averaging the two runs' weights instead (one model) fell to 22.49 dB against
23.06: runs from one start end in different basins.
"""
from __future__ import annotations

import torch
from torch import nn

from ._layers import Colorizer2d
from ._registry import create_model, register_model


@register_model("ensemble")
class EnsembleColorizer(Colorizer2d):
    is_classifier = True

    def __init__(self, *, members: list[dict], temperature: float = 0.55, chroma_gain: float = 0.0):
        if not isinstance(members, list) or len(members) < 2 or not all(isinstance(m, dict) for m in members):
            raise ValueError(f"members must be a list of at least 2 model configs, got {members!r}")
        built = nn.ModuleList(create_model(m["name"], **{k: v for k, v in m.items() if k != "name"}) for m in members)
        # the members' own configs, live: the knobs set below reach them
        super().__init__(members=[m.config for m in built], temperature=temperature, chroma_gain=chroma_gain)
        self.members = built
        first = self.members[0]
        for i, member in enumerate(self.members):
            if not getattr(member, "is_classifier", False):
                raise ValueError(f"ensemble member {i} ({member.config['name']}) is not a bin classifier")
            if member.bin_centers.shape != first.bin_centers.shape or member.takes_hints != first.takes_hints:
                raise ValueError(f"ensemble member {i} differs from member 0 in its ab bins or hint inputs")
        self.multiple = max(m.multiple for m in self.members)
        self.takes_hints = first.takes_hints
        self.set_temperature(temperature)
        self.set_chroma_gain(chroma_gain)

    @classmethod
    def of(cls, models: list[Colorizer2d]) -> "EnsembleColorizer":
        """An ensemble holding these trained models' weights, with the first one's decode knobs."""
        first = models[0].config
        ensemble = cls(members=[dict(m.config) for m in models], temperature=first.get("temperature", 0.55),
                       chroma_gain=first.get("chroma_gain", 0.0))
        for target, source in zip(ensemble.members, models):
            target.load_state_dict(source.state_dict())
        return ensemble.eval()

    @property
    def primary(self) -> Colorizer2d:
        """The first member: what a fine-tune started from this ensemble (init_from) takes."""
        return self.members[0]

    @property
    def bin_centers(self) -> torch.Tensor:
        return self.members[0].bin_centers

    def set_temperature(self, temperature: float) -> None:
        for member in self.members:
            member.set_temperature(temperature)
        self.temperature = self.config["temperature"] = temperature

    def set_chroma_gain(self, gain: float) -> None:
        for member in self.members:
            member.set_chroma_gain(gain)
        self.chroma_gain = self.config["chroma_gain"] = gain

    def forward(self, l_norm: torch.Tensor, points: torch.Tensor | None = None,
                reference: torch.Tensor | None = None) -> torch.Tensor:
        hints = (points, reference) if self.takes_hints else ()
        logits = [member(l_norm, *hints) for member in self.members]          # each (B, Q, H/4, W/4)
        return torch.stack(logits).float().mean(0).to(logits[0].dtype)        # (B, Q, H/4, W/4)

    def to_ab(self, out: torch.Tensor) -> torch.Tensor:
        return self.members[0].to_ab(out)
