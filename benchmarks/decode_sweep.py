"""Choose a bin-classifier's decode knobs on the tune split: temperature x chroma gain.

    .venv/bin/python benchmarks/decode_sweep.py splits/tune.txt --root ../shared/data --model runs/default \
        [--temperatures 0.38 0.5 0.6 0.7] [--gains 0 0.25 0.5 1]

The annealed-mean temperature trades vividness against drift to the gamut centre; the chroma gain
(models/_layers.py, BinColorNet) holds colour back where the predicted distribution is unsure.
The network runs once per photo; every pair decodes its logits and is scored as `chromatize
evaluate` scores (the same PSNR, colourfulness and per-photo gains over grey, at full resolution).
The rule printed last is the one used to pick the shipped knobs: the best mean PSNR among the
pairs with delta_cf <= 12 (colour that is right and vivid, not PSNR alone); where no pair keeps
delta_cf <= 12, the most colourful pair within 0.1 dB of the best mean PSNR. Run it on tune, never
on test. After it, the picked pair's figures per source group (general, objects, food, people:
evaluation/photos.py, source_group); --json writes every figure to a file. With --ensemble-with,
the network is the ensemble of the two models (models/ensemble.py: the mean of their
log-probabilities; an ensemble's figures before exporting one). With --old-photos SEED every photo
is also fed as the old print `chromatize evaluate --old-photos SEED` feeds, and each pair gets the
prints' PSNR (their colour on the truth's L) and the loss (clean - prints): a decode that buys colour
on clean photos may cost it on prints (BENCHMARKS.md, "Old prints: the decode and the weight, the
length and the seed of the consistency term").
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import merge_l_ab, normalize_l  # noqa: E402
from chromatize.evaluation import metrics  # noqa: E402
from chromatize.evaluation.photos import WORSE_DB, degraded_gray, list_photos, source_group  # noqa: E402
from chromatize.images import open_image, to_lightness  # noqa: E402
from chromatize.inference import load, load_network  # noqa: E402
from chromatize.models.ensemble import EnsembleColorizer  # noqa: E402

MAX_DELTA_CF = 12.0
PSNR_TIE = 0.1


def sweep(colorizer, paths: list[Path], pairs: list[tuple[float, float]], flip: bool = False,
          device: str = "cpu", degrade_seed: int | None = None) -> dict[str, dict]:
    """Per pair (and grey): mean PSNR, median gain, shares better / > 3 dB worse, colourfulness.
    flip: the network also sees the mirrored photo, its answer mirrored back, and the two
    log-probabilities are averaged. degrade_seed: each photo also as the old print `chromatize
    evaluate --old-photos SEED` feeds, its colour scored on the truth's L (print_psnr, print_loss)."""
    model = colorizer.model
    scores: dict[str, list] = {"gray": []} | {f"T={t:g} g={g:g}": [] for t, g in pairs}
    truth_cf, groups = [], [source_group(p) for p in paths]
    for index, path in enumerate(paths):
        truth = np.asarray(open_image(path).convert("RGB"))
        light = to_lightness(open_image(path))
        small = colorizer.model_input(light.l_full)                           # (1, 1, h, w)
        logits = _logits(model, small, flip, device)
        printed = None
        if degrade_seed is not None:                                           # as `evaluate --old-photos`
            damaged = to_lightness(Image.fromarray(degraded_gray(truth, seed=(degrade_seed, index))))
            printed = _logits(model, colorizer.model_input(damaged.l_full), flip, device)
        gray = merge_l_ab(light.l_full, torch.zeros(1, 2, 1, 1))
        psnr_gray = metrics.psnr(gray, truth)
        scores["gray"].append((psnr_gray, psnr_gray, metrics.colorfulness(gray))
                              + ((psnr_gray,) if printed is not None else ()))
        truth_cf.append(metrics.colorfulness(truth))
        for t, g in pairs:
            model.set_temperature(t)
            model.set_chroma_gain(g)
            pred = merge_l_ab(light.l_full, _decode(model, logits, small))
            row = (metrics.psnr(pred, truth), psnr_gray, metrics.colorfulness(pred))
            if printed is not None:                       # the print's colour on the truth's L: colour alone
                row += (metrics.psnr(merge_l_ab(light.l_full, _decode(model, printed, small)), truth),)
            scores[f"T={t:g} g={g:g}"].append(row)
        print(f"{path.name} done", file=sys.stderr, flush=True)
    summaries = {key: _summary(rows, statistics.fmean(truth_cf)) for key, rows in scores.items()}
    for key, rows in scores.items():
        summaries[key]["groups"] = {
            name: _summary([r for r, g in zip(rows, groups) if g == name],
                           statistics.fmean(c for c, g in zip(truth_cf, groups) if g == name))
            for name in sorted(set(groups))}
    return summaries


def _logits(model, small: torch.Tensor, flip: bool, device: str) -> torch.Tensor:
    """The network's logits for one model-sized L, (1, Q, h/4, w/4) on the CPU; flip: averaged with
    the mirrored photo's log-probabilities."""
    with torch.no_grad():
        l_in = normalize_l(small).to(device)
        logits = model.run(l_in)
        if flip:
            mirrored = model.run(l_in.flip(-1)).flip(-1)
            logits = (logits.float().log_softmax(1) + mirrored.float().log_softmax(1)) / 2
    return logits.float().cpu()


def _decode(model, logits: torch.Tensor, small: torch.Tensor) -> torch.Tensor:
    """Logits -> ab_norm at the model input's size, by the model's current knobs."""
    with torch.no_grad():
        return torch.nn.functional.interpolate(model.to_ab(logits), size=small.shape[-2:], mode="bilinear",
                                               align_corners=False)


def _summary(rows: list[tuple], truth_cf: float) -> dict:
    """rows: (psnr, grey psnr, colourfulness[, the print's psnr]) per photo."""
    gains = [r[0] - r[1] for r in rows]
    cf = statistics.fmean(r[2] for r in rows)
    out = {"photos": len(rows), "psnr": statistics.fmean(r[0] for r in rows),
           "gain": statistics.fmean(gains), "median_gain": statistics.median(gains),
           "share_better": sum(x > 0 for x in gains) / len(rows),
           "share_worse_3db": sum(x < -WORSE_DB for x in gains) / len(rows),
           "colorfulness": cf, "delta_cf": abs(cf - truth_cf)}
    if all(len(r) > 3 for r in rows):
        out["print_psnr"] = statistics.fmean(r[3] for r in rows)
        out["print_loss"] = out["psnr"] - out["print_psnr"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", help="a folder or a list file (the tune split)")
    parser.add_argument("--root", help="folder the list's relative paths start from")
    parser.add_argument("--model", default="default")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.38, 0.5, 0.6, 0.7])
    parser.add_argument("--gains", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--ensemble-with", help="a second model: score the mean of the two's log-probabilities")
    parser.add_argument("--flip", action="store_true",
                        help="also run the mirrored photo and average (test-time augmentation)")
    parser.add_argument("--device", default="cpu", help="where the network runs (cpu, cuda)")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument("--old-photos", type=int, metavar="SEED",
                        help="also score old prints (as `chromatize evaluate --old-photos SEED`): each pair's "
                             "print PSNR and loss (clean - print), which the rule does not use")
    args = parser.parse_args()
    paths = list_photos(args.photos, root=args.root)
    colorizer = load(args.model, size=args.size, device=args.device)
    if args.ensemble_with:                         # decoded by the first model's knobs
        colorizer.model = EnsembleColorizer.of([colorizer.model, load_network(args.ensemble_with)]).to(args.device)
    summaries = sweep(colorizer, paths, [(t, g) for t in args.temperatures for g in args.gains], args.flip,
                      args.device, args.old_photos)
    prints = args.old_photos is not None
    print(f"model {args.model}{' + ' + args.ensemble_with if args.ensemble_with else ''}"
          f"{' + flip' if args.flip else ''}, "
          f"{len(paths)} photos, size {args.size}")
    print(f"{'decode':<16}{'psnr':>8}{'gain med':>10}{'better':>8}{'<-3dB':>8}{'colourf':>9}{'delta_cf':>10}"
          + (f"{'prints':>8}{'loss':>7}" if prints else ""))
    for key, s in summaries.items():
        print(f"{key:<16}{s['psnr']:>8.3f}{s['median_gain']:>+10.3f}{s['share_better']:>8.1%}"
              f"{s['share_worse_3db']:>8.1%}{s['colorfulness']:>9.2f}{s['delta_cf']:>10.2f}"
              + (f"{s['print_psnr']:>8.3f}{s['print_loss']:>7.3f}" if prints else ""))
    chosen = pick(summaries)
    print(f"pick: {chosen}")
    print(f"per group at {chosen} (grey in brackets):")
    for name, s in summaries[chosen]["groups"].items():
        grey = summaries["gray"]["groups"][name]
        print(f"  {name:<9}{s['photos']:>4} photos {s['psnr']:>8.3f} ({grey['psnr']:.3f}) gain {s['gain']:>+6.3f} "
              f"median {s['median_gain']:>+6.3f} better {s['share_better']:>6.1%} colourf {s['colorfulness']:>6.2f} "
              f"delta_cf {s['delta_cf']:>6.2f}" + (f" print loss {s['print_loss']:>5.2f}" if prints else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({"model": args.model, "ensemble_with": args.ensemble_with,
                                               "pick": chosen, "summaries": summaries}, indent=1))


def pick(summaries: dict[str, dict]) -> str:
    """The shipped rule's pair (see the module docstring), as its key."""
    pairs = {k: s for k, s in summaries.items() if k != "gray"}
    allowed = {k: s for k, s in pairs.items() if s["delta_cf"] <= MAX_DELTA_CF}
    if allowed:
        return max(allowed, key=lambda k: allowed[k]["psnr"])
    top = max(s["psnr"] for s in pairs.values())
    near = {k: s for k, s in pairs.items() if s["psnr"] >= top - PSNR_TIE}
    return max(near, key=lambda k: near[k]["colorfulness"])


if __name__ == "__main__":
    main()
