"""Two decodes tried against the shipped one on the tune split (BENCHMARKS.md, "Quality on the test split").

    .venv/bin/python benchmarks/decode_alternatives.py splits/tune.txt --root ../shared/data \
        --model runs/hint2/best.pt --train-list splits/train.txt \
        [--rebalanced 0.55,0.5,0 1,0,1 ...] [--average runs/wide1/best.pt]

(The figures in BENCHMARKS.md were measured on one model, member 1 of today's default ensemble;
--model default now loads the ensemble.)

--rebalanced T,GAIN,C: undo the class rebalancing before the annealed mean: the logits minus C
times the log of the rebalancing weights the training loss multiplied in (refitted, as
training.recipe does, on the --train-list photos; rebalance 0.75 as the default preset). C 0 is
the plain decode, 1 the full correction.
--average MODEL: the mean of the two models' logits (models.EnsembleColorizer), decoded with the
first one's knobs.
Run it on tune, never on test.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.evaluation.photos import GrayBaseline, evaluate, format_table, list_photos  # noqa: E402
from chromatize.inference import Colorizer, load  # noqa: E402
from chromatize.models import EnsembleColorizer, load_model  # noqa: E402
from chromatize.training.config import PRESETS  # noqa: E402
from chromatize.training.data import CACHE_MARGIN, LabCache  # noqa: E402
from chromatize.training.losses import BinClassLoss  # noqa: E402
from chromatize.training.recipe import _ab_pixels  # noqa: E402


class Rebalanced(torch.nn.Module):
    """The model's logits minus `correction` x log(rebalancing weight), decoded by the model."""

    def __init__(self, model, log_weights: torch.Tensor, correction: float):
        super().__init__()
        self.model, self.multiple, self.takes_hints = model, model.multiple, model.takes_hints
        self.register_buffer("shift", correction * log_weights.view(1, -1, 1, 1))

    def forward(self, l_norm, points=None, reference=None):
        return self.model(l_norm, points, reference).float() - self.shift

    def predict_ab(self, l_norm, points=None, reference=None):
        ab = self.model.to_ab(self(l_norm, points, reference))
        return F.interpolate(ab, size=l_norm.shape[-2:], mode="bilinear", align_corners=False)


def log_weights(model, train_list: str, root: str) -> torch.Tensor:
    paths = list_photos(train_list, root=root)
    cache = LabCache(paths, side=round(PRESETS["default"]["size"] * CACHE_MARGIN), progress=False)
    loss = BinClassLoss(model.bin_centers, rebalance=PRESETS["default"]["rebalance"])
    loss.fit_prior(_ab_pixels(cache))
    return torch.log(loss.weights)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", help="a folder or a list file (the tune split)")
    parser.add_argument("--root", help="folder the lists' relative paths start from")
    parser.add_argument("--model", default="default")
    parser.add_argument("--train-list", help="the photos the model trained on (for --rebalanced)")
    parser.add_argument("--rebalanced", nargs="*", default=[], metavar="T,GAIN,C")
    parser.add_argument("--average", metavar="MODEL", help="a second model whose logits are averaged in")
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    model = load(args.model, device="cpu").model
    summaries = {"gray": evaluate(GrayBaseline(), paths, progress=False)[1],
                 "as shipped": evaluate(Colorizer(model, device="cpu"), paths, progress=False)[1]}
    if args.rebalanced:
        if not args.train_list:
            parser.error("--rebalanced needs --train-list")
        weights = log_weights(model, args.train_list, args.root)
        for spec in args.rebalanced:
            t, gain, c = (float(v) for v in spec.split(","))
            model.set_temperature(t)
            model.set_chroma_gain(gain)
            summaries[f"T {t:g} g {gain:g} c {c:g}"] = evaluate(
                Colorizer(Rebalanced(model, weights, c), device="cpu"), paths, progress=False)[1]
    if args.average:
        model = load(args.model, device="cpu").model                      # its own knobs again
        pair = EnsembleColorizer.of([model, load_model(args.average)])
        summaries["logits averaged"] = evaluate(Colorizer(pair, device="cpu"), paths, progress=False)[1]
    print(f"model {args.model}, {len(paths)} photos")
    print(format_table(summaries))


if __name__ == "__main__":
    main()
