"""Score a colorizer on a COLOUR clip: it sees each frame's L; its output is compared with the clip.

One pass, one model run per frame: every temporal mode asked for (off, flow) is applied to the
same predictions, so their scores differ by the stabilizer alone. Reported per mode and for the
ground-truth clip itself: mean per-frame PSNR, CDC and the a,b warp error (see metrics.py).

Two warp errors per mode: `warp_error` on the a,b the colorizer outputs (upsampled to full size,
before the 8-bit RGB encoding), and `warp_error_8bit` on the a,b read back from the 8-bit RGB
frames. The second has a floor the colorizer cannot go under: with 8-bit rounding and gamut
clipping, even a constant a,b comes back changing wherever L changes (benchmarks/warp_floor.py:
0.55 on tree.avi, 0.09 on vtest.avi's first 120 frames). The truth has only the 8-bit kind.
"""
from __future__ import annotations

import json
import time
from itertools import tee
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from ..color import denormalize_ab, rgb_to_lab
from ..fileio import atomic_write
from ..images import ImageError, save_atomic
from ..inference import Colorizer
from ..media.animation import is_animation, read_animation
from ..media.frames import compose, predictions
from ..media.stabilize import make_stabilizer
from ..media.video_read import is_video, read_video_frames
from . import metrics

STRIP_FRAMES = 4
STRIP_HEIGHT = 144


def read_clip(path: Path) -> tuple[Iterator[np.ndarray], int | None]:
    """(H, W, 3) RGB frames of a video or an animation, and the frame count if known."""
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if is_video(path):
        return read_video_frames(path)
    if is_animation(path):
        anim = read_animation(path)
        return iter(anim.frames), len(anim.frames)
    raise ImageError(f"{path}: not a video or an animated GIF/WebP/PNG")


def _lab(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W, 3) float32 Lab."""
    return rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255)[0].permute(1, 2, 0).numpy()


def evaluate_clip(colorizer: Colorizer, path: Path, *, modes: tuple[str, ...] = ("off", "flow"),
                  max_frames: int | None = None, out_dir: Path | None = None, progress: bool = True,
                  knobs: dict | None = None) -> dict:
    """Returns {"frames", "modes": {mode: {psnr, cdc, warp_error}}, "truth": {cdc, warp_error}, ...};
    with out_dir, also writes summary.json and strip.png there. knobs: FlowStabilizer arguments.
    The frames run as video does (Colorizer.for_frames)."""
    colorizer = colorizer.for_frames()
    frames, count = read_clip(path)
    if max_frames:
        frames = (f for i, f in zip(range(max_frames), frames))
        count = min(count, max_frames) if count else max_frames
    frames, truths = tee(frames)
    flow_knobs = knobs or {}
    stabilizers = {mode: make_stabilizer(mode, **(flow_knobs if mode == "flow" else {})) for mode in modes}
    psnrs: dict[str, list[float]] = {mode: [] for mode in modes}
    cdc = {name: metrics.CdcAccumulator() for name in (*modes, "truth")}
    warp = metrics.WarpErrorAccumulator()
    strip_every = max(1, (count or STRIP_FRAMES) // STRIP_FRAMES)
    strip_rows: list[list[np.ndarray]] = []
    started, n = time.perf_counter(), 0
    bar = tqdm(total=count, unit="frame", desc=f"evaluating {path.name}", disable=not progress, dynamic_ncols=True)
    for pred, truth in zip(predictions(colorizer, frames), truths):
        truth_lab = _lab(truth)
        outputs, abs_ = {}, {"truth": truth_lab[..., 1:]}
        for mode, stabilizer in stabilizers.items():
            ab = stabilizer(pred.l_small, pred.ab) if stabilizer else pred.ab
            outputs[mode] = rgb = compose(pred, ab)
            psnrs[mode].append(metrics.psnr(rgb, truth))
            cdc[mode].add(rgb)
            abs_[mode] = _full_ab(ab, truth.shape[:2])
            abs_[f"{mode}_8bit"] = _lab(rgb)[..., 1:]
        cdc["truth"].add(truth)
        l8 = np.clip(truth_lab[..., 0] * 2.55 + 0.5, 0, 255).astype(np.uint8)
        warp.add(l8, abs_)
        if n % strip_every == 0 and len(strip_rows) < STRIP_FRAMES:
            strip_rows.append([np.repeat(l8[..., None], 3, axis=2), *outputs.values(), truth])
        n += 1
        bar.update(1)
    bar.close()
    if n < 2:
        raise ImageError(f"{path}: needs at least 2 frames to measure flicker, got {n}")
    warp_errors = warp.result()
    summary = {
        "clip": str(path), "frames": n, "seconds": round(time.perf_counter() - started, 2),
        "modes": {mode: {"psnr": float(np.mean(psnrs[mode])), "cdc": cdc[mode].result(),
                         "warp_error": warp_errors[mode], "warp_error_8bit": warp_errors[f"{mode}_8bit"]}
                  for mode in modes},
        "truth": {"cdc": cdc["truth"].result(), "warp_error": warp_errors["truth"]},
        "non_occluded_fraction": float(np.mean(warp.valid_fraction)),
    }
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(out_dir / "summary.json", lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2)))
        save_atomic(_strip(strip_rows), out_dir / "strip.png")
    return summary


def _full_ab(ab_norm_small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(2, h, w) ab_norm -> (H, W, 2) a,b in ab units at full size, as merge_l_ab upsamples it."""
    ab = torch.nn.functional.interpolate(torch.from_numpy(np.ascontiguousarray(ab_norm_small))[None], size=shape,
                                         mode="bilinear", align_corners=False)
    return denormalize_ab(ab)[0].permute(1, 2, 0).numpy()


def _strip(rows: list[list[np.ndarray]]) -> Image.Image:
    """One row per sampled frame: grey input | each mode's output | ground truth."""
    h, w = rows[0][0].shape[:2]
    tw = max(1, round(w * STRIP_HEIGHT / h))
    sheet = Image.new("RGB", (tw * len(rows[0]), STRIP_HEIGHT * len(rows)), "white")
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            sheet.paste(Image.fromarray(img).resize((tw, STRIP_HEIGHT), Image.Resampling.BILINEAR),
                        (c * tw, r * STRIP_HEIGHT))
    return sheet


def format_clip_table(summary: dict) -> str:
    lines = [f"{summary['clip']}: {summary['frames']} frames",
             f"{'output':<16}{'psnr':>10}{'cdc':>12}{'warp_error':>14}{'warp_error_8bit':>18}"]
    for mode, row in summary["modes"].items():
        lines.append(f"{'temporal ' + mode:<16}{row['psnr']:>10.3f}{row['cdc']:>12.6f}{row['warp_error']:>14.3f}"
                     f"{row['warp_error_8bit']:>18.3f}")
    truth = summary["truth"]
    lines.append(f"{'truth':<16}{'-':>10}{truth['cdc']:>12.6f}{'-':>14}{truth['warp_error']:>18.3f}")
    return "\n".join(lines)
