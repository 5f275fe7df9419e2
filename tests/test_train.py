import csv
import logging

import pytest
import torch

from chromatize.cli import main
from chromatize.training.config import TrainConfig, build_config
from chromatize.training.recipe import NotEnoughImages, train_run

TINY = dict(size=32, batch_size=4, steps_per_epoch=6, sample_every=1, lr=3e-3)
# A plain small U-Net: what TrainConfig's defaults were before they became the default recipe.
PLAIN = dict(model="unet", model_kwargs={"width": 8}, lr_schedule="constant", weight_decay=1e-4, rebalance=0.5,
             ab_regression=0.0, ema=0.0, degrade=0.0, hint_free=0.0, flips=False)


def history(run_dir):
    with open(run_dir / "history.csv") as fh:
        return list(csv.DictReader(fh))


SMALL_KW = {"default": {"model_kwargs": {"decoder": [8, 8, 8, 8]}}, "scratch": {"model_kwargs": {"width": 8}}}


@pytest.mark.parametrize("preset", ["default", "scratch", "seed-beta"])
def test_training_lowers_the_loss_and_writes_the_run_folder(photo_dir, tmp_path, preset):
    kw = SMALL_KW.get(preset, {})
    cfg = build_config(preset=preset, overrides=dict(TINY, epochs=4, lr_schedule="constant", **kw))
    state = train_run(photo_dir, tmp_path / "run", cfg, progress=False)
    rows = history(tmp_path / "run")
    assert len(rows) == 4 and state.step == 24
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    for name in ("history.csv", "loss.png", "last.pt", "best.pt", "config.json", "model.safetensors", "model.json",
                 "val_images.txt"):
        assert (tmp_path / "run" / name).stat().st_size > 0, name
    assert len(list((tmp_path / "run" / "samples").glob("*.png"))) == 4


@pytest.mark.parametrize("extra", [{}, {"ema": 0.9, "rebalance": 0.8, "ab_regression": 5.0}])
def test_resume_continues_exactly(photo_dir, tmp_path, extra):
    cfg = build_config(overrides={**TINY, **PLAIN, "epochs": 3, "steps_per_epoch": 2, "sample_every": 0, **extra})
    train_run(photo_dir, tmp_path / "straight", cfg, progress=False)
    train_run(photo_dir, tmp_path / "split", cfg.updated({"epochs": 2}), progress=False)
    state = train_run(photo_dir, tmp_path / "split", cfg, resume=True, progress=False)
    assert state.epoch == 3 and state.step == 6
    assert [r["step"] for r in history(tmp_path / "split")] == ["2", "4", "6"]
    straight = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)["model"]
    resumed = torch.load(tmp_path / "split" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    if extra:                                     # the averaged weights differ from the raw ones
        raw = torch.load(tmp_path / "split" / "last.pt", weights_only=True)["train_model"]
        assert any(not torch.equal(raw[k], resumed[k]) for k in raw if raw[k].dtype.is_floating_point)


def test_training_is_reproducible_with_a_seed(photo_dir, tmp_path):
    cfg = build_config(overrides=dict(TINY, model="alpha", epochs=1, steps_per_epoch=3, sample_every=0))
    train_run(photo_dir, tmp_path / "a", cfg, progress=False)
    train_run(photo_dir, tmp_path / "b", cfg, progress=False)
    assert history(tmp_path / "a")[0]["train_loss"] == history(tmp_path / "b")[0]["train_loss"]


def test_early_stopping_stops_before_the_last_epoch(photo_dir, tmp_path):
    cfg = build_config(overrides=dict(TINY, model="alpha", epochs=20, steps_per_epoch=1, lr=0.0, patience=2,
                                      sample_every=0))
    state = train_run(photo_dir, tmp_path / "run", cfg, progress=False)
    assert state.epoch == 3                     # lr 0: no gain after the first epoch


def test_unreadable_files_are_skipped_with_a_warning(photo_dir, tmp_path, caplog):
    (photo_dir / "broken.jpg").write_bytes(b"not a jpeg")
    cfg = build_config(overrides=dict(TINY, model="alpha", epochs=1, steps_per_epoch=1, sample_every=0))
    with caplog.at_level(logging.WARNING):
        train_run(photo_dir, tmp_path / "run", cfg, progress=False)
    assert "broken.jpg" in caplog.text and "skipped 1 unreadable" in caplog.text


def test_fewer_than_two_images_is_a_clear_error(tmp_path, photo_dir):
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    next(photo_dir.glob("*.png")).rename(lonely / "one.png")
    with pytest.raises(NotEnoughImages, match="need at least 2 images .* found 1"):
        train_run(lonely, tmp_path / "run", TrainConfig(size=32), progress=False)


def test_config_rejects_unknown_keys_and_presets():
    with pytest.raises(ValueError, match="unknown config keys: colour"):
        TrainConfig.from_dict({"colour": 1})
    with pytest.raises(ValueError, match="seed-beta"):
        build_config(preset="nope")
    with pytest.raises(ValueError, match="precision must be auto or fp32, got 'fp16'"):
        TrainConfig(precision="fp16")


def test_python_and_the_command_line_train_the_same_default(photo_dir, tmp_path, monkeypatch):
    import chromatize
    import chromatize.training.recipe as recipe

    assert chromatize.train is recipe.train_run                  # what Python calls, the CLI calls
    seen = []
    monkeypatch.setattr(recipe, "train_run", lambda data, run, cfg, **kw: seen.append(cfg) or _Done())
    assert main(["train", str(photo_dir), "--out", str(tmp_path / "run"), "-q"]) == 0
    assert seen[0] == TrainConfig() == build_config(preset="default")
    assert (seen[0].model, seen[0].model_kwargs) == ("lite_unet", {})
    seen.clear()
    assert main(["train", str(photo_dir), "--out", str(tmp_path / "run2"), "--lr", "0.01", "--model", "unet",
                 "--model-option", "width=8", "--no-flips", "-q"]) == 0
    assert seen[0] == TrainConfig(lr=0.01, model="unet", model_kwargs={"width": 8}, flips=False)


class _Done:
    epoch, step, best_val = 1, 1, 0.0


def test_seed_beta_preset_is_the_reports_recipe():
    cfg = build_config(preset="seed-beta")
    assert (cfg.model, cfg.model_kwargs, cfg.optimizer, cfg.lr, cfg.loss, cfg.batch_size, cfg.flips) == (
        "beta", {"extra_convs": 3}, "adagrad", 1e-3, "mse", 15, False)
    assert (cfg.rotation, cfg.shear, cfg.zoom) == (20.0, 0.2, 0.2)


def test_cli_train_and_resume(photo_dir, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", str(photo_dir), "--out", str(out), "--model", "unet", "--model-option", "width=8",
            "--size", "32", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2", "-q"]
    assert main(args) == 0
    assert main(args[:-5] + ["--epochs", "2", "--resume", "-q"]) == 0
    assert [r["epoch"] for r in history(out)] == ["1", "2"]
    assert "best val loss" in capsys.readouterr().out


def test_cli_model_option_adds_to_the_presets_options(photo_dir, tmp_path):
    import json

    out = tmp_path / "run"
    assert main(["train", str(photo_dir), "--out", str(out), "--preset", "scratch", "--model-option", "width=8",
                 "--size", "32", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "-q"]) == 0
    options = json.loads((out / "config.json").read_text())["model_kwargs"]
    assert options == {"hints": True, "depth": 4, "width": 8}           # the preset's hints and depth kept


def test_cli_train_on_empty_folder_fails_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["train", str(tmp_path / "empty"), "--out", str(tmp_path / "run"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "need at least 2 images" in err[0]


def test_alpha_run_writes_colorization_and_loss_curve(photo_dir, tmp_path):
    image = next(photo_dir.glob("*.png"))
    assert main(["alpha", str(image), "--out", str(tmp_path / "alpha"), "--steps", "40", "-q"]) == 0
    rows = history(tmp_path / "alpha")
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    for name in ("colorized.png", "loss.png"):
        assert (tmp_path / "alpha" / name).exists()


def test_cli_resume_without_a_run_is_a_clear_error(photo_dir, tmp_path, capsys):
    assert main(["train", str(photo_dir), "--out", str(tmp_path / "none"), "--resume", "-q"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_time_budget_stops_training_early(photo_dir, tmp_path):
    cfg = build_config(overrides=dict(TINY, model="alpha", epochs=1000, steps_per_epoch=5, sample_every=0,
                                      time_budget_min=0.02, lr_schedule="cosine"))
    state = train_run(photo_dir, tmp_path / "run", cfg, progress=False)
    rows = history(tmp_path / "run")
    assert state.epoch < 1000 and len(rows) == state.epoch
    assert sum(float(r["seconds"]) for r in rows) < 1.2 * 60 * 0.02 + 5       # the last epoch may be cut short


def _die_at_update(monkeypatch, when: int, action) -> None:
    """Run `action` at the `when`-th EMA update (inside step `when`, before it is counted)."""
    import importlib

    train = importlib.import_module("chromatize.training.loop")     
    real, calls = train.Ema.update, {"n": 0}

    def update(self, model):
        calls["n"] += 1
        if calls["n"] == when:
            action()
        real(self, model)

    monkeypatch.setattr(train.Ema, "update", update)


def test_kill_mid_epoch_then_resume_continues_exactly(photo_dir, tmp_path, monkeypatch):
    cfg = build_config(overrides={**TINY, **PLAIN, "epochs": 2, "steps_per_epoch": 3, "sample_every": 0,
                                  "ema": 0.9, "checkpoint_every_steps": 1})
    train_run(photo_dir, tmp_path / "straight", cfg, progress=False)

    def kill():
        raise SystemExit("killed")                                  # like kill -9: nothing runs after it

    with monkeypatch.context() as patch:
        _die_at_update(patch, 5, kill)
        with pytest.raises(SystemExit):
            train_run(photo_dir, tmp_path / "split", cfg, progress=False)
    saved = torch.load(tmp_path / "split" / "last.pt", weights_only=True)
    assert saved["step"] == 4 and saved["partial"]["done"] == 1        # at most N = 1 step lost
    state = train_run(photo_dir, tmp_path / "split", cfg, resume=True, progress=False)
    assert state.step == 6 and [r["step"] for r in history(tmp_path / "split")] == ["3", "6"]
    straight = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)
    resumed = torch.load(tmp_path / "split" / "last.pt", weights_only=True)
    for key in ("model", "train_model"):
        assert all(torch.equal(straight[key][k], resumed[key][k]) for k in straight[key])


def test_ctrl_c_saves_a_checkpoint_and_resume_goes_on(photo_dir, tmp_path, monkeypatch, capsys):
    import os
    import signal

    args = ["train", str(photo_dir), "--out", str(tmp_path / "run"), "--model", "unet", "--model-option", "width=8",
            "--size", "32", "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "2", "--ema", "0.9", "-q"]
    with monkeypatch.context() as patch:
        _die_at_update(patch, 2, lambda: os.kill(os.getpid(), signal.SIGINT))
        assert main(args) == 130
    assert "checkpoint saved at step 2" in capsys.readouterr().err
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["step"] == 2
    assert main(args + ["--resume"]) == 0
    assert [r["step"] for r in history(tmp_path / "run")] == ["3", "6"]


def test_damaged_or_foreign_checkpoint_is_a_clear_error(photo_dir, tmp_path, capsys):
    args = ["train", str(photo_dir), "--out", str(tmp_path / "run"), "--model", "unet", "--model-option", "width=8",
            "--size", "32", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "-q"]
    assert main(args) == 0
    last = tmp_path / "run" / "last.pt"
    good = last.read_bytes()
    last.write_bytes(good[: len(good) // 2])
    assert main(args[:-7] + ["--epochs", "2", "--resume", "-q"]) == 2
    assert "damaged checkpoint" in capsys.readouterr().err
    last.write_bytes(good)
    assert main(args[:-7] + ["--model-option", "width=16", "--epochs", "2", "--resume", "-q"]) == 2
    assert "another model" in capsys.readouterr().err


def test_group_weights_give_each_subfolder_its_share_of_the_draws(tmp_path):
    from pathlib import Path

    from chromatize.training.data import Batcher, draw_weights, group_of

    root = Path("/data")
    groups = [group_of(root / rel, root) for rel in ("a/1.jpg", "a/2.jpg", "a/3.jpg", "b/4.jpg", "5.jpg")]
    assert groups == ["a", "a", "a", "b", "."]
    weights = draw_weights(groups, {"a": 0.5, "b": 0.25, ".": 0.25})
    assert torch.allclose(weights, torch.tensor([1 / 6, 1 / 6, 1 / 6, 0.25, 0.25], dtype=torch.float64))
    assert draw_weights(groups, {}) is None
    with pytest.raises(ValueError, match="no weight for group"):
        draw_weights(groups, {"a": 1.0})

    class Cache:                                   # what Batcher.epoch_batches reads of a LabCache
        lab = torch.zeros(5, 3, 8, 8)
        paths = list(range(5))

        def __len__(self):
            return 5
    Cache.groups = groups
    batcher = Batcher(Cache(), size=8, augment=False, group_weights={"a": 0.0, "b": 0.0, ".": 1.0})
    drawn = []
    batcher.batch = lambda idx: drawn.extend(idx.tolist())
    for _ in batcher.epoch_batches(4, 5, torch.Generator().manual_seed(0)):
        pass
    assert drawn == [4] * 20                       # only the group with weight is drawn


def test_training_with_group_weights_runs_and_rejects_a_missing_group(photo_dir, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    for i, path in enumerate(sorted(p for p in photo_dir.rglob("*") if p.is_file())):
        (data / ("people" if i % 2 else "general")).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, data / ("people" if i % 2 else "general") / path.name)
    args = ["train", str(data), "--preset", "scratch", "--model-option", "width=8", "--size", "32", "--epochs", "1",
            "--steps-per-epoch", "2", "--batch-size", "4", "-q"]
    assert main(args + ["--out", str(tmp_path / "run"), "--group-weights", "general=0.7,people=0.3"]) == 0
    config = (tmp_path / "run" / "config.json").read_text()
    assert '"general": 0.7' in config
    assert main(args + ["--out", str(tmp_path / "run2"), "--group-weights", "general=1"]) != 0
    assert "no weight for group(s) people" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(args + ["--out", str(tmp_path / "run3"), "--group-weights", "general"])


def test_a_run_started_from_an_equalized_network_sees_the_equalized_input_too(photo_dir, tmp_path):
    import json

    from chromatize.models import create_model, input_options, load_model, save_model
    start = save_model(create_model("lite_unet", decoder=[8, 8, 8, 8], equalized="channel"),
                       tmp_path / "eq.safetensors")
    kw = {"model_kwargs": {"decoder": [8, 8, 8, 8]}, "init": str(start)}
    train_run(photo_dir, tmp_path / "run", build_config(preset="default", overrides=dict(TINY, epochs=1, **kw)),
              progress=False)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model_kwargs"]["equalized"] == "channel"
    assert load_model(tmp_path / "run" / "model.safetensors").config["equalized"] == "channel"
    plain = save_model(create_model("lite_unet", decoder=[8, 8, 8, 8]), tmp_path / "plain.safetensors")
    assert input_options(plain, "lite_unet") == {} and input_options(start, "unet") == {}


def test_paired_batches_draw_as_plain_ones_and_carry_each_prints_clean_input(tmp_path):
    from chromatize.training.data import Batcher

    class Cache:                                   # what Batcher.batch reads of a LabCache
        lab = torch.cat([torch.rand(12, 1, 72, 72) * 100, torch.rand(12, 2, 72, 72) * 60 - 30], 1)
        groups = ["."] * 12

        def __len__(self):
            return 12
    plain, paired = (Batcher(Cache(), size=64, augment=False, degrade=0.5, paired=p) for p in (False, True))
    torch.manual_seed(3)
    (l_plain,), ab_plain = plain.batch(torch.arange(12))
    torch.manual_seed(3)
    (l,), ab, (clean, damaged) = paired.batch(torch.arange(12))
    assert torch.equal(l, l_plain) and torch.equal(ab, ab_plain)
    assert damaged.any() and not damaged.all()
    assert torch.equal(clean[~damaged], l[~damaged])
    assert all(not torch.equal(clean[i], l[i]) for i in torch.nonzero(damaged).flatten())


def test_consistency_adds_its_term_to_the_loss_and_needs_averaged_weights_and_prints(photo_dir, tmp_path):
    kw = dict(TINY, epochs=1, steps_per_epoch=1, sample_every=0, degrade=1.0, model_kwargs={"decoder": [8, 8, 8, 8]})
    losses = []
    for weight in (0.0, 1.0):
        train_run(photo_dir, tmp_path / f"run{weight}", build_config(overrides=dict(kw, consistency=weight)),
                  progress=False)
        losses.append(float(history(tmp_path / f"run{weight}")[0]["train_loss"]))
    assert losses[1] > losses[0]                  # the same batch, and the teacher's answer for the clean photos
    for off in ({"ema": 0.0}, {"degrade": 0.0}):
        with pytest.raises(ValueError, match="consistency"):
            build_config(overrides=dict(kw, consistency=1.0, **off))
