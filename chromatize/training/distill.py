"""Distillation: a trained model's colour distribution as a second target for the one in training.

    TeacherTargets  wraps the training batches: (inputs, ab_norm) -> (inputs, (ab_norm, teacher))
                    with teacher (B, Q, h, w) the teacher's log-probabilities over the ab bins for
                    the very inputs the student sees (augmented, damaged, hinted)
    the loss        losses.BinClassLoss with `distill` = d: per pixel, the target distribution is
                    (1 - d) x the soft-encoded truth + d x the teacher's (renormalised) distribution

Why: an ensemble of several runs of the default recipe is surer and more often right than any of
them (models/ensemble.py), but costs one network's time per member, which video cannot afford on a
CPU. A single network trained towards the ensemble's distributions learns what the ensemble
agrees on, at one network's cost (Hinton et al. 2015, "Distilling the knowledge in a neural
network"). The validation batches keep the truth alone, so validation losses stay comparable
with every other run.
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from ..runtime import prepare


class TeacherTargets:
    """Training batches with the teacher's log-probabilities added to the target (see module doc)."""

    def __init__(self, batches, teacher: nn.Module, device: torch.device):
        if not getattr(teacher, "is_classifier", False):
            raise ValueError(f"the teacher must be a bin classifier, got {teacher.config['name']!r}")
        self.batches, self.device = batches, device
        self.teacher = teacher.to(device).eval().requires_grad_(False)

    def epoch_batches(self, batch_size: int, steps: int, generator: torch.Generator, skip: int = 0,
                      shard: tuple[int, int] = (0, 1)) -> Iterable:
        for inputs, ab_norm in self.batches.epoch_batches(batch_size, steps, generator, skip=skip, shard=shard):
            with torch.no_grad():
                logits = self.teacher(*[prepare(x, self.device) for x in inputs])      # (B, Q, h, w)
            yield inputs, (ab_norm, logits.float().log_softmax(1))
