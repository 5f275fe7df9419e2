import json

import numpy as np

from chromatize.cli import main
from chromatize.evaluate import GrayBaseline

from conftest import scene


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
    assert set(gray) == {"psnr", "ssim", "ciede2000", "colorfulness", "colorfulness_gt", "delta_cf", "auc",
                         "auc_rebalanced", "n_images"}
    assert gray["n_images"] == 8 and gray["colorfulness"] < 1
    assert gray["delta_cf"] == abs(gray["colorfulness"] - gray["colorfulness_gt"])
    assert (out / "tiny" / "grid.png").exists()                          # a run's model.safetensors: its run name
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
    from chromatize.evaluate import evaluate

    path = tmp_path / "vivid.png"
    scene(3).save(path)
    rows, _, samples = evaluate(GrayBaseline(), [path], progress=False)
    _, pred, truth = samples[0]
    lab = lambda rgb: rgb_to_lab(torch.from_numpy(rgb / 255.0).permute(2, 0, 1)[None])[0]
    assert (lab(pred)[0] - lab(truth)[0]).abs().mean() < 0.3
    assert rows[0].psnr > 0
