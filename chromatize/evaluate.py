"""Score colorizers on colour photos: each sees a photo's L, its output is compared with the photo."""
from __future__ import annotations

import csv
import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from . import metrics
from .color import merge_l_ab, rgb_to_lab
from .fileio import atomic_write
from .images import ImageError, find_images, open_image, save_atomic, to_lightness
from .inference import load

GRID_IMAGES = 4
GRID_HEIGHT = 192


class GrayBaseline:
    """The baseline colorizer: keeps L, predicts a = b = 0."""

    def colorize(self, image: Image.Image) -> Image.Image:
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


def make_colorizer(model: str, *, size: int, device: str = "cpu"):
    return GrayBaseline() if model == "gray" else load(model, size=size, device=device)


def model_label(model: str) -> str:
    path = Path(model)
    if model in ("gray", "default"):
        return model
    if path.is_dir() or path.stem in ("model", "best", "last"):           # name a run's model by its run
        return path.name if path.is_dir() else path.parent.name
    return path.stem


def list_photos(source: str | Path) -> list[Path]:
    """A folder of colour photos (recursive), or a text file with one path per line."""
    source = Path(source)
    if source.is_file() and source.suffix == ".txt":
        return [Path(line) for line in source.read_text().split("\n") if line.strip()]
    paths = find_images(source)
    if not paths:
        raise ValueError(f"{source}: no images found")
    return paths


def score_image(pred: np.ndarray, truth: np.ndarray, aucs: metrics.AucAccumulator, name: str) -> ImageScore:
    """pred, truth: (H, W, 3) uint8. Adds the pixels to the dataset-wide AuC as well."""
    to_lab = lambda rgb: rgb_to_lab(torch.from_numpy(rgb / 255.0).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    lab_p, lab_t = to_lab(pred), to_lab(truth)
    own = metrics.AucAccumulator()
    for acc in (own, aucs):
        acc.add(lab_p[..., 1:], lab_t[..., 1:])
    auc, auc_rebalanced = own.result()
    return ImageScore(name, metrics.psnr(pred, truth), metrics.ssim(pred, truth),
                      float(metrics.ciede2000(lab_p, lab_t).mean()), metrics.colorfulness(pred),
                      metrics.colorfulness(truth), auc, auc_rebalanced)


def evaluate(colorizer, paths: list[Path], *, progress: bool = True) -> tuple[list[ImageScore], dict, list]:
    """Score every photo; returns per-image scores, the summary and (grey, pred, truth) samples."""
    aucs, rows, samples, failed = metrics.AucAccumulator(), [], [], []
    for path in tqdm(paths, desc="evaluating", unit="img", disable=not progress, leave=False):
        try:
            truth = np.asarray(open_image(path).convert("RGB"))
        except ImageError as err:
            failed.append(str(err))
            continue
        pred = np.asarray(colorizer.colorize(Image.fromarray(truth)).convert("RGB"))   # sees the photo's L only
        rows.append(score_image(pred, truth, aucs, path.name))
        if len(samples) < GRID_IMAGES:
            samples.append((np.asarray(GrayBaseline().colorize(Image.fromarray(truth))), pred, truth))
    if not rows:
        raise ValueError(f"no readable photos to evaluate ({len(failed)} unreadable)")
    return rows, summarize(rows, aucs), samples


def summarize(rows: list[ImageScore], aucs: metrics.AucAccumulator) -> dict:
    mean = lambda key: statistics.fmean(getattr(r, key) for r in rows)
    auc, auc_rebalanced = aucs.result()
    return {"psnr": mean("psnr"), "ssim": mean("ssim"), "ciede2000": mean("ciede2000"),
            "colorfulness": mean("colorfulness"), "colorfulness_gt": mean("colorfulness_gt"),
            "delta_cf": abs(mean("colorfulness") - mean("colorfulness_gt")),
            "auc": auc, "auc_rebalanced": auc_rebalanced, "n_images": len(rows)}


def write_report(out_dir: Path, rows: list[ImageScore], summary: dict, samples: list) -> None:
    """per_image.csv, summary.json and grid.png (rows of grey | prediction | truth)."""
    def write_csv(tmp: str) -> None:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0])))
            writer.writeheader()
            writer.writerows(asdict(r) for r in rows)

    atomic_write(out_dir / "per_image.csv", write_csv)
    atomic_write(out_dir / "summary.json", lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2)))
    save_atomic(comparison_strip(samples), out_dir / "grid.png")


def comparison_strip(samples: list) -> Image.Image:
    rows = []
    for tiles in samples:
        scaled = [Image.fromarray(t).resize((max(1, round(t.shape[1] * GRID_HEIGHT / t.shape[0])), GRID_HEIGHT))
                  for t in tiles]
        rows.append(np.concatenate([np.asarray(s) for s in scaled], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return Image.fromarray(np.concatenate(rows, axis=0))


def format_table(summaries: dict[str, dict]) -> str:
    keys = ["psnr", "ssim", "ciede2000", "colorfulness", "colorfulness_gt", "delta_cf", "auc", "auc_rebalanced"]
    header = f"{'model':<16}" + "".join(f"{k:>16}" for k in keys) + f"{'n':>6}"
    lines = [header]
    for label, s in summaries.items():
        lines.append(f"{label:<16}" + "".join(f"{s[k]:>16.4f}" for k in keys) + f"{s['n_images']:>6}")
    return "\n".join(lines)
