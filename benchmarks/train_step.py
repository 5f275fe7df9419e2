"""One training step of the default recipe's model, fp32 against bf16 autocast, on this CPU.

    .venv/bin/python benchmarks/train_step.py [--runs 7] [--batch 16] [--size 192]

Prints the CPU's bf16 capabilities (AVX512-BF16, AMX tiles), then the median step time (forward,
loss, backward, AdamW) in each precision and their ratio. chromatize.runtime uses bf16 on a CPU
only where it was faster: with AMX tiles.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import median_seconds  # noqa: E402

from chromatize.models import create_model  # noqa: E402
from chromatize.training.config import PRESETS  # noqa: E402
from chromatize.training.losses import build_loss  # noqa: E402


def step_seconds(bf16: bool, *, batch: int, size: int, runs: int) -> float:
    torch.manual_seed(0)
    preset = PRESETS["default"]
    model = create_model("unet", **preset["model_kwargs"]).to(memory_format=torch.channels_last)
    loss_fn = build_loss("mse", model, rebalance=preset["rebalance"], regression=preset["ab_regression"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, size, size).to(memory_format=torch.channels_last)
    y = torch.rand(batch, 2, size, size) * 0.4 - 0.2

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return median_seconds(step, runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=192)
    args = parser.parse_args()
    print(f"AVX512-BF16: {torch.cpu._is_avx512_bf16_supported()}, AMX tiles: {torch.cpu._is_amx_tile_supported()}, "
          f"{torch.get_num_threads()} threads, batch {args.batch} at {args.size} px")
    fp32 = step_seconds(False, batch=args.batch, size=args.size, runs=args.runs)
    bf16 = step_seconds(True, batch=args.batch, size=args.size, runs=args.runs)
    print(f"{'precision':<16}{'ms/step':>10}{'img/s':>8}")
    for name, seconds in (("fp32", fp32), ("bf16 autocast", bf16)):
        print(f"{name:<16}{seconds * 1e3:>10.0f}{args.batch / seconds:>8.1f}")
    print(f"bf16 / fp32 step time: {bf16 / fp32:.2f}x")


if __name__ == "__main__":
    main()
