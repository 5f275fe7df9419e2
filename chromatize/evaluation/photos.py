"""Score colorizers on colour photos: each sees a photo's L, its output is compared with the photo.

Next to the means, every summary has a bootstrap 95 % interval of the mean PSNR, and per photo
the gain over the grey baseline (scored on every photo, it is cheap): its median, the share of
photos better than grey and the share more than 3 dB worse. Options (EvalOptions):
    hints N      N true-colour points per photo (patch means of the truth; Zhang et al. 2017),
                 drawn with hint_seed; the summary adds the share of hinted pixels whose output
                 is within 10 ab units of the hint
    reference    "self" (each photo's own colours: the oracle) or a photo for all of them
    degrade_seed old-photo inputs (degrade.py, seeded per photo); scored on colour alone: the
                 truth's L with the predicted a,b, so only the colour counts
"""
from __future__ import annotations

import csv
import json
import statistics
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from ..color import lab_to_rgb, merge_l_ab, rgb_to_lab
from ..degrade import degrade_lab
from ..fileio import atomic_write
from ..inference.points import Point, as_points
from ..images import ImageError, find_images, open_image, save_atomic, to_lightness
from ..inference import load
from ..training.simulated_hints import user_points
from . import metrics

BOOTSTRAP_SAMPLES = 2000
HINT_TOLERANCE = 10.0       # ab units: a hinted pixel "keeps" its hint when this close
WORSE_DB = 3.0

GRID_IMAGES = 4
GRID_HEIGHT = 192


@dataclass
class EvalOptions:
    hints: int = 0
    hint_seed: int = 0
    reference: str | None = None        # None, "self" or a photo's path
    degrade_seed: int | None = None     # old-photo inputs, scored on colour alone


class GrayBaseline:
    """The baseline colorizer: keeps L, predicts a = b = 0 (hints and references are ignored)."""

    def colorize(self, image: Image.Image, **_hints) -> Image.Image:
        light = to_lightness(image)
        return Image.fromarray(merge_l_ab(light.l_full, torch.zeros(1, 2, 1, 1)))


@dataclass
class ImageScore:
    file: str
    psnr: float
    ssim: float
    ciede2000: float
    colorfulness: float
    colorfulness_gt: float
    auc: float
    auc_rebalanced: float
    psnr_gray: float = 0.0              # the grey baseline's PSNR on the same photo
    hints_kept: float = float("nan")    # share of hinted pixels within HINT_TOLERANCE of the hint


def make_colorizer(model: str, *, size: int, device: str = "cpu", **knobs):
    """knobs: temperature / chroma_gain overrides (None = the model's own)."""
    if model == "gray":
        return GrayBaseline()
    return load(model, size=size, device=device, **{k: v for k, v in knobs.items() if v is not None})


def model_label(model: str) -> str:
    path = Path(model)
    if model in ("gray", "default"):
        return model
    if path.is_dir() or path.stem in ("model", "best", "last"):           # name a run's model by its run
        return path.name if path.is_dir() else path.parent.name
    return path.stem


SOURCE_GROUPS = ("general", "objects", "food", "people")


def source_group(path: str | Path) -> str:
    """The shared data's source group of a photo: objects (cut-outs, in an objects/ folder), food
    (the food-* round), people (people-*) or general (every other photo)."""
    path = Path(path)
    if "objects" in path.parent.parts:
        return "objects"
    for group in ("food", "people"):
        if path.name.startswith(f"{group}-"):
            return group
    return "general"


def list_photos(source: str | Path, *, root: str | Path | None = None) -> list[Path]:
    """A folder of colour photos (recursive), or a text file with one path per line (relative
    paths are taken from `root`, by default the list's own folder)."""
    source = Path(source)
    if source.is_file() and source.suffix == ".txt":
        base = Path(root) if root else source.parent
        return [base / line.strip() for line in source.read_text(errors="surrogateescape").split("\n")
                if line.strip()]                               # names that are not UTF-8 kept byte for byte
    paths = find_images(source)
    if not paths:
        raise ValueError(f"{source}: no images found")
    return paths


def score_image(pred: np.ndarray, truth: np.ndarray, aucs: metrics.AucAccumulator, name: str) -> ImageScore:
    """pred, truth: (H, W, 3) uint8. Adds the pixels to the dataset-wide AuC as well."""
    lab_p, lab_t = _lab(pred), _lab(truth)
    own = metrics.AucAccumulator()
    for acc in (own, aucs):
        acc.add(lab_p[..., 1:], lab_t[..., 1:])
    auc, auc_rebalanced = own.result()
    return ImageScore(name, metrics.psnr(pred, truth), metrics.ssim(pred, truth),
                      float(metrics.ciede2000(lab_p, lab_t).mean()), metrics.colorfulness(pred),
                      metrics.colorfulness(truth), auc, auc_rebalanced)


def evaluate(colorizer, paths: list[Path], *, options: EvalOptions | None = None,
             progress: bool = True) -> tuple[list[ImageScore], dict, list]:
    """Score every photo; returns per-image scores, the summary and (grey, pred, truth) samples."""
    options = options or EvalOptions()
    reference = None if options.reference in (None, "self") else open_image(options.reference)
    aucs, rows, samples, failed = metrics.AucAccumulator(), [], [], []
    for index, path in enumerate(tqdm(paths, desc="evaluating", unit="img", disable=not progress, leave=False)):
        try:
            truth = np.asarray(open_image(path).convert("RGB"))
        except ImageError as err:
            failed.append(str(err))
            continue
        gray = np.asarray(GrayBaseline().colorize(Image.fromarray(truth)))
        hints = as_points(user_points(truth, options.hints, seed=(options.hint_seed, index)))
        seen = truth if options.degrade_seed is None else degraded_gray(truth, seed=(options.degrade_seed, index))
        kw = {"hints": hints} if hints else {}
        if options.reference is not None:
            kw["reference"] = Image.fromarray(truth) if options.reference == "self" else reference
        pred = np.asarray(colorizer.colorize(Image.fromarray(seen), **kw).convert("RGB"))   # sees L only
        if options.degrade_seed is not None:
            pred = with_lightness_of(truth, pred)                       # score the colour alone
        score = score_image(pred, truth, aucs, path.name)
        score.psnr_gray = metrics.psnr(gray, truth)
        score.hints_kept = hints_kept(pred, hints) if hints else float("nan")
        rows.append(score)
        if len(samples) < GRID_IMAGES:
            samples.append((gray, pred, truth))
    if not rows:
        raise ValueError(f"no readable photos to evaluate ({len(failed)} unreadable)")
    return rows, summarize(rows, aucs), samples


def worst_photos(colorizer, paths: list[Path], rows: list[ImageScore], *, count: int = 5,
                 options: EvalOptions | None = None) -> list:
    """(grey, prediction, truth) of the `count` photos with the lowest gain over grey, worst first."""
    options = options or EvalOptions()
    by_name = {p.name: (i, p) for i, p in enumerate(paths)}
    samples = []
    for row in sorted(rows, key=lambda r: r.psnr - r.psnr_gray)[:count]:
        index, path = by_name[row.file]
        truth = np.asarray(open_image(path).convert("RGB"))
        hints = as_points(user_points(truth, options.hints, seed=(options.hint_seed, index)))
        seen = truth if options.degrade_seed is None else degraded_gray(truth, seed=(options.degrade_seed, index))
        kw = {"hints": hints} if hints else {}
        pred = np.asarray(colorizer.colorize(Image.fromarray(seen), **kw).convert("RGB"))
        if options.degrade_seed is not None:
            pred = with_lightness_of(truth, pred)
        samples.append((np.asarray(GrayBaseline().colorize(Image.fromarray(truth))), pred, truth))
    return samples


def hints_kept(pred: np.ndarray, hints: list[Point]) -> float:
    """Share of hinted pixels whose output ab lies within HINT_TOLERANCE of the hint's ab."""
    kept = 0
    for p in hints:
        got = _lab(pred[int(p.y):int(p.y) + 1, int(p.x):int(p.x) + 1])[0, 0, 1:]
        want = p.ab_norm().numpy() * 128
        kept += float(np.hypot(*(got - want))) <= HINT_TOLERANCE
    return kept / len(hints)


def degraded_gray(truth: np.ndarray, *, seed) -> np.ndarray:
    """(H, W, 3) uint8 colour photo -> (H, W) uint8 grey of its L with old-photo damage."""
    lab = torch.from_numpy(_lab(truth)).permute(2, 0, 1)[None].float()      # (1, 3, H, W)
    g = torch.Generator().manual_seed(zlib.crc32(str(seed).encode()))    # hash() of a str changes per process
    l = degrade_lab(lab, g)                                                  # (1, 1, H, W)
    lab = torch.cat((l, torch.zeros(1, 2, *l.shape[-2:])), dim=1)
    return (lab_to_rgb(lab)[0, 0] * 255).round().byte().numpy()


def with_lightness_of(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """The truth's L with the prediction's a,b, as (H, W, 3) uint8 sRGB."""
    lab = np.concatenate((_lab(truth)[..., :1], _lab(pred)[..., 1:]), axis=2)
    rgb = lab_to_rgb(torch.from_numpy(lab).permute(2, 0, 1)[None].float())[0].permute(1, 2, 0)
    return (rgb * 255).round().byte().numpy()


def _lab(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> (H, W, 3) float Lab."""
    return rgb_to_lab(torch.from_numpy(rgb / 255.0).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()


def bootstrap_interval(values: list[float], *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the mean."""
    data = np.asarray(values, dtype=np.float64)
    if not np.isfinite(data).all():                   # a perfect score (infinite PSNR): no spread to show
        return float(data.mean()), float(data.mean())
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(samples, len(data)))].mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def summarize(rows: list[ImageScore], aucs: metrics.AucAccumulator) -> dict:
    mean = lambda key: statistics.fmean(getattr(r, key) for r in rows)
    auc, auc_rebalanced = aucs.result()
    gains = [r.psnr - r.psnr_gray if r.psnr != r.psnr_gray else 0.0 for r in rows]    # inf - inf is no gain
    low, high = bootstrap_interval([r.psnr for r in rows])
    summary = {"psnr": mean("psnr"), "psnr_ci_low": low, "psnr_ci_high": high, "psnr_gray": mean("psnr_gray"),
               "median_gain": statistics.median(gains),
               "share_better": sum(g > 0 for g in gains) / len(rows),
               "share_worse_3db": sum(g < -WORSE_DB for g in gains) / len(rows),
               "ssim": mean("ssim"), "ciede2000": mean("ciede2000"),
               "colorfulness": mean("colorfulness"), "colorfulness_gt": mean("colorfulness_gt"),
               "delta_cf": abs(mean("colorfulness") - mean("colorfulness_gt")),
               "auc": auc, "auc_rebalanced": auc_rebalanced, "n_images": len(rows)}
    kept = [r.hints_kept for r in rows if r.hints_kept == r.hints_kept]
    if kept:
        summary["hints_kept"] = statistics.fmean(kept)
    return summary


def write_report(out_dir: Path, rows: list[ImageScore], summary: dict, samples: list,
                 worst: list | None = None) -> None:
    """per_image.csv, summary.json, grid.png (rows of grey | prediction | truth) and, given the
    worst photos' samples, worst.png (the same, lowest gain over grey first)."""
    def write_csv(tmp: str) -> None:
        with open(tmp, "w", newline="", errors="surrogateescape") as fh:     # file names byte for byte
            writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0])))
            writer.writeheader()
            writer.writerows(asdict(r) for r in rows)

    atomic_write(out_dir / "per_image.csv", write_csv)
    atomic_write(out_dir / "summary.json", lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2)))
    save_atomic(comparison_strip(samples), out_dir / "grid.png")
    if worst:
        save_atomic(comparison_strip(worst), out_dir / "worst.png")


def comparison_strip(samples: list) -> Image.Image:
    rows = []
    for tiles in samples:
        scaled = [Image.fromarray(t).resize((max(1, round(t.shape[1] * GRID_HEIGHT / t.shape[0])), GRID_HEIGHT))
                  for t in tiles]
        rows.append(np.concatenate([np.asarray(s) for s in scaled], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return Image.fromarray(np.concatenate(rows, axis=0))


def compare_models(models: list[str], paths: list[Path], *, options: EvalOptions, out: str | Path | None = None,
                   progress: bool = True, size: int, device: str = "cpu", **knobs) -> dict[str, dict]:
    """Score each model ("gray", "default", a file or a run folder; knobs as in make_colorizer) on
    the photos; with `out`, each one's report (write_report) goes into out/LABEL (out itself for
    one model). Returns the summaries by label."""
    summaries: dict[str, dict] = {}
    for model in models:
        label = model_label(model)
        if label in summaries:                  # e.g. the shipped 'default' and a run folder named default
            label = str(model).strip("/").replace("/", "_")      # a folder name, never a path
        colorizer = make_colorizer(model, size=size, device=device, **knobs)
        rows, summary, samples = evaluate(colorizer, paths, options=options, progress=progress)
        summaries[label] = summary
        if out:
            worst = worst_photos(colorizer, paths, rows, options=options) if model != "gray" else None
            write_report(Path(out) / label if len(models) > 1 else Path(out), rows, summary, samples, worst)
    return summaries


def format_table(summaries: dict[str, dict]) -> str:
    """One row a model: PSNR with its 95 % interval, the per-photo comparison with grey, the rest."""
    keys = ["ssim", "ciede2000", "colorfulness", "colorfulness_gt", "delta_cf", "auc", "auc_rebalanced"]
    header = (f"{'model':<16}{'psnr':>8}{'95% interval':>16}{'gain med':>10}{'better':>8}{'<-3dB':>7}"
              + "".join(f"{k:>16}" for k in keys) + f"{'hints kept':>12}{'n':>6}")
    lines = [header]
    for label, s in summaries.items():
        interval = f"{s['psnr_ci_low']:.2f}-{s['psnr_ci_high']:.2f}"
        kept = f"{s['hints_kept']:.3f}" if "hints_kept" in s else "-"
        lines.append(f"{label:<16}{s['psnr']:>8.3f}{interval:>16}{s['median_gain']:>+10.3f}"
                     f"{s['share_better']:>8.1%}{s['share_worse_3db']:>7.1%}"
                     + "".join(f"{s[k]:>16.4f}" for k in keys) + f"{kept:>12}{s['n_images']:>6}")
    return "\n".join(lines)
