"""Two CPU processes with gloo under torchrun: training and colorizing split over ranks."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from chromatize.cli import main

ROOT = Path(__file__).resolve().parents[1]


def torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "chromatize", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


TRAIN = ["--model", "alpha", "--size", "32", "--steps-per-epoch", "3", "--no-augment", "--no-flips", "--degrade", "0",
         "--lr", "3e-3", "--lr-schedule", "constant", "--seed", "0", "--device", "cpu", "--sample-every", "0", "-q",
         "--precision", "fp32"]                 # bf16 on an AMX CPU would round the two runs apart


def test_two_processes_train_like_one_with_the_same_global_batch(photo_dir, tmp_path):
    ddp, single = tmp_path / "ddp", tmp_path / "single"
    torchrun("train", str(photo_dir), "--out", str(ddp), "--batch-size", "2", "--epochs", "1", *TRAIN)
    torchrun("train", str(photo_dir), "--out", str(ddp), "--batch-size", "2", "--epochs", "2", "--resume", *TRAIN)
    assert main(["train", str(photo_dir), "--out", str(single), "--batch-size", "4", "--epochs", "2", *TRAIN]) == 0
    with open(ddp / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["epoch"] for r in rows] == ["1", "2"]                  # one history, written once per epoch
    assert json.loads((ddp / "config.json").read_text())["world_size"] == 2
    a = torch.load(ddp / "last.pt", weights_only=True)
    b = torch.load(single / "last.pt", weights_only=True)
    assert a["step"] == b["step"] == 6 and len(a["torch_rng_ranks"]) == 2
    for key in a["model"]:
        assert torch.allclose(a["model"][key], b["model"][key], atol=1e-4), key
    assert sorted(p.name for p in ddp.iterdir()) == sorted(p.name for p in single.iterdir())


def test_torchrun_colorize_splits_the_folder_and_gives_the_same_files(photo_dir, tmp_path, tiny_model_file):
    plain, split = tmp_path / "plain", tmp_path / "split"
    assert main(["colorize", str(photo_dir), "-o", str(plain), "--model", str(tiny_model_file), "--size", "32",
                 "--device", "cpu", "-q"]) == 0
    result = torchrun("colorize", str(photo_dir), "-o", str(split), "--model", str(tiny_model_file), "--size", "32",
                      "--device", "cpu", "-q")
    assert "colorized 8 file(s)" in result.stdout and "by 2 processes" in result.stdout
    assert result.stdout.count("colorized") == 1                     # one summary, from rank 0
    files = sorted(p.relative_to(plain) for p in plain.rglob("*.png"))
    assert files == sorted(p.relative_to(split) for p in split.rglob("*.png")) and len(files) == 8
    for rel in files:
        assert np.array_equal(np.asarray(Image.open(plain / rel)), np.asarray(Image.open(split / rel)))
    again = torchrun("colorize", str(photo_dir), "-o", str(split), "--model", str(tiny_model_file), "--size", "32",
                     "--device", "cpu", "--skip-existing", "-q")
    assert "colorized 0 file(s)" in again.stdout and "8 skipped" in again.stdout


@pytest.mark.parametrize("world", [1])
def test_a_plain_run_is_rank_zero_of_one(world):
    from chromatize.runtime import from_environment

    info = from_environment()
    assert (info.rank, info.world, info.is_main, info.enabled) == (0, world, True, False)
    assert info.shard([1, 2, 3]) == [1, 2, 3] and info.sum(2.0, 3.0) == [2.0, 3.0]
