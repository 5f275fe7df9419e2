"""Inference speed of every registered model against this machine's measured matmul peak.

    .venv/bin/python benchmarks/speed.py [--sizes 256 512 1024] [--runs 5] [--bf16-max-size 256]

For each model, square input size and precision (fp32; bf16 autocast): median ms per image,
megapixels/s, GFLOP per megapixel (forward, counted by torch.utils.flop_counter), achieved GFLOP/s,
and that as a fraction of the peak matmul throughput of the same precision measured in this run.
bf16 is timed only up to --bf16-max-size when the CPU has no native bf16 (it is emulated, slowly).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import median_seconds  # noqa: E402

from chromatize.models import create_model, list_models  # noqa: E402
from chromatize.runtime import cpu_has_fast_bf16  # noqa: E402


def matmul_peak(dtype: torch.dtype, n: int = 2048, runs: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return 2 * n**3 / median_seconds(lambda: a @ b, runs) / 1e9


def forward_flops(model, x) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bf16-max-size", type=int, default=256)
    args = parser.parse_args()
    native = cpu_has_fast_bf16()
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16, n=1024, runs=2)}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, native bf16: {native}; "
          f"matmul peak fp32 {peaks['fp32']:.1f} GFLOP/s, bf16 {peaks['bf16']:.1f} GFLOP/s")
    print(f"{'model':<8}{'size':>6}{'prec':>6}{'ms/img':>10}{'MP/s':>8}{'GFLOP/MP':>10}{'GFLOP/s':>9}{'of peak':>9}")
    for name in list_models():
        model = create_model(name).eval().to(memory_format=torch.channels_last)
        for size in args.sizes:
            x = torch.rand(1, 1, size, size).mul(2).sub(1).contiguous(memory_format=torch.channels_last)
            gflop = forward_flops(model, x) / 1e9
            for prec in ("fp32", "bf16"):
                if prec == "bf16" and not native and size > args.bf16_max_size:
                    continue
                runs = args.runs if prec == "fp32" or native else 1
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16"):
                    seconds = median_seconds(lambda: model(x), runs)
                mp = size * size / 1e6
                rate = gflop / seconds
                print(f"{name:<8}{size:>6}{prec:>6}{seconds * 1e3:>10.1f}{mp / seconds:>8.2f}{gflop / mp:>10.2f}"
                      f"{rate:>9.1f}{rate / peaks[prec]:>9.0%}", flush=True)


if __name__ == "__main__":
    main()
