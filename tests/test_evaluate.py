import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import scene
from PIL import Image

from chromatize.cli import main
from chromatize.evaluation.photos import GrayBaseline


def test_gray_baseline_keeps_lightness_and_has_no_colour():
    out = np.asarray(GrayBaseline().colorize(scene(0).convert("L")), int)
    assert out.shape[2] == 3 and np.abs(out[..., 0] - out[..., 2]).max() <= 1


def test_evaluate_writes_report_and_compares_models(photo_dir, tmp_path, tiny_model_file, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", str(photo_dir), "--model", "gray", "--model", str(tiny_model_file),
                 "--size", "64", "--out", str(out), "-q"]) == 0
    table = capsys.readouterr().out
    assert "gray" in table and "model" in table
    gray = json.loads((out / "gray" / "summary.json").read_text())
    assert set(gray) == {"psnr", "psnr_ci_low", "psnr_ci_high", "psnr_gray", "median_gain", "share_better",
                         "share_worse_3db", "ssim", "ciede2000", "colorfulness", "colorfulness_gt", "delta_cf", "auc",
                         "auc_rebalanced", "n_images"}
    assert gray["psnr_ci_low"] < gray["psnr"] < gray["psnr_ci_high"] and gray["psnr"] == gray["psnr_gray"]
    assert gray["median_gain"] == 0 and gray["share_better"] == 0 and gray["share_worse_3db"] == 0
    tiny = json.loads((out / "tiny" / "summary.json").read_text())
    rows = (out / "tiny" / "per_image.csv").read_text().strip().splitlines()[1:]
    assert tiny["psnr_gray"] == gray["psnr"] and len(rows) == 8
    assert gray["n_images"] == 8 and gray["colorfulness"] < 1
    assert gray["delta_cf"] == abs(gray["colorfulness"] - gray["colorfulness_gt"])
    assert (out / "tiny" / "grid.png").exists()                          # a run's model.safetensors: its run name
    assert Image.open(out / "tiny" / "worst.png").height == 5 * 192       # the five photos least better than grey
    assert len((out / "gray" / "per_image.csv").read_text().strip().splitlines()) == 9


def test_evaluate_gray_on_grey_truth_is_perfect(tmp_path):
    folder = tmp_path / "grey"
    folder.mkdir()
    for i in range(2):
        scene(i).convert("L").convert("RGB").save(folder / f"g{i}.png")
    assert main(["evaluate", str(folder), "--model", "gray", "--out", str(tmp_path / "e"), "-q"]) == 0
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())
    assert summary["psnr"] > 45 and summary["auc"] > 0.99 and summary["ssim"] > 0.99


def test_models_are_scored_with_the_photos_exact_lightness(tmp_path):
    """The grey baseline's error is all in a,b: its L matches the photo's L, not a luma grey's."""
    import torch

    from chromatize.color import rgb_to_lab
    from chromatize.evaluation.photos import evaluate

    path = tmp_path / "vivid.png"
    scene(3).save(path)
    rows, _, samples = evaluate(GrayBaseline(), [path], progress=False)
    _, pred, truth = samples[0]
    lab = lambda rgb: rgb_to_lab(torch.from_numpy(rgb / 255.0).permute(2, 0, 1)[None])[0]
    assert (lab(pred)[0] - lab(truth)[0]).abs().mean() < 0.3
    assert rows[0].psnr > 0


def test_bootstrap_interval_covers_the_mean_and_narrows_with_more_photos():
    from chromatize.evaluation.photos import bootstrap_interval

    rng = np.random.default_rng(0)
    small, large = rng.normal(20, 3, 10), rng.normal(20, 3, 400)
    lo, hi = bootstrap_interval(list(small))
    assert lo < small.mean() < hi
    lo2, hi2 = bootstrap_interval(list(large))
    assert hi2 - lo2 < (hi - lo) / 3


def test_evaluate_with_hints_reference_and_old_photos(photo_dir, tmp_path, capsys):
    import torch

    from chromatize.models import create_model, save_model

    torch.manual_seed(0)
    model = save_model(create_model("unet", width=8, hints=True), tmp_path / "h" / "model.safetensors")
    for extra in (["--hints", "3", "--hint-seed", "1"], ["--reference", "self"], ["--old-photos", "0"]):
        out = tmp_path / "e" / extra[0].strip("-")
        assert main(["evaluate", str(photo_dir), "--model", "gray", "--model", str(model), "--size", "64",
                     "--out", str(out), "-q"] + extra) == 0
        summary = json.loads((out / "h" / "summary.json").read_text())
        gray = json.loads((out / "gray" / "summary.json").read_text())
        assert summary["n_images"] == 8
        if extra[0] == "--hints":
            assert 0 <= summary["hints_kept"] <= 1 and "hints_kept" in capsys.readouterr().out.replace(" ", "_")
        if extra[0] == "--old-photos":
            assert abs(gray["median_gain"]) < 0.05        # colour-only scoring: grey stays grey (up to rounding)


def test_simulated_user_points_are_seeded_patch_means_of_the_truth():
    from chromatize.evaluation.photos import hints_kept
    from chromatize.inference.points import as_points
    from chromatize.training.simulated_hints import user_points

    truth = np.zeros((50, 80, 3), np.uint8)
    truth[:, 40:] = (200, 30, 30)
    random_hints = lambda *a, **kw: as_points(user_points(*a, **kw))
    a, b = random_hints(truth, 5, seed=(1, 2)), random_hints(truth, 5, seed=(1, 2))
    assert a == b and len(a) == 5 and a != random_hints(truth, 5, seed=(2, 2))
    for p in a:
        if p.x < 38:
            assert p.rgb == (0, 0, 0)
        elif p.x > 42:
            assert p.rgb == (200, 30, 30)
    assert hints_kept(truth, a) == 1.0
    assert hints_kept(np.full_like(truth, 128), [p for p in a if p.x > 42] or a[:1]) < 1.0


def test_summary_of_three_hand_made_photos():
    from chromatize.evaluation import metrics
    from chromatize.evaluation.photos import ImageScore, summarize

    def row(name, psnr, gray, cf, cf_gt):
        return ImageScore(name, psnr, 0.9, 5.0, cf, cf_gt, 0.8, 0.7, psnr_gray=gray)

    rows = [row("a", 24.0, 22.0, 30.0, 40.0), row("b", 18.0, 22.0, 10.0, 50.0), row("c", 21.0, 20.0, 20.0, 60.0)]
    aucs = metrics.AucAccumulator()
    aucs.add(np.zeros((4, 2)), np.zeros((4, 2)))
    summary = summarize(rows, aucs)
    assert summary["psnr"] == pytest.approx(21.0) and summary["psnr_gray"] == pytest.approx(64 / 3)
    assert summary["median_gain"] == pytest.approx(1.0)                 # gains +2, -4, +1
    assert summary["share_better"] == pytest.approx(2 / 3)
    assert summary["share_worse_3db"] == pytest.approx(1 / 3)            # only b, 4 dB below grey
    assert summary["colorfulness"] == pytest.approx(20.0) and summary["delta_cf"] == pytest.approx(30.0)


def test_old_photo_damage_is_the_same_in_every_process():
    """degraded_gray's seed must not depend on Python's per-process string hashing."""
    code = ("import numpy as np; from chromatize.evaluation.photos import degraded_gray; "
            "truth = (np.arange(48 * 64 * 3) % 251).astype(np.uint8).reshape(48, 64, 3); "
            "print(degraded_gray(truth, seed=(0, 3)).tobytes().hex())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(h)}).stdout for h in (1, 2)}
    assert len(outs) == 1 and len(outs.pop()) > 100
