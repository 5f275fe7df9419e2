"""One 64->64 3x3 convolution on a 256x256 map: memory layout and precision on this CPU.

    .venv/bin/python benchmarks/conv_layout.py [--runs 10]

Emulated bf16 (CPUs without native bf16) is very slow, so bf16 rows are timed with one run.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import median_seconds  # noqa: E402

from chromatize.runtime import cpu_has_fast_bf16  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    x, conv = torch.randn(1, 64, 256, 256), torch.nn.Conv2d(64, 64, 3, padding=1)
    flops = 2 * 64 * 64 * 9 * 256 * 256
    print(f"native bf16: {cpu_has_fast_bf16()}, {torch.get_num_threads()} threads")
    print(f"{'layout':<16}{'precision':<15}{'ms':>10}{'GFLOP/s':>10}")
    for layout in ("contiguous", "channels_last"):
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        xx, cc = x.to(memory_format=fmt), conv.to(memory_format=fmt)
        for bf16 in (False, True):
            runs = 1 if bf16 and not cpu_has_fast_bf16() else args.runs
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                seconds = median_seconds(lambda: cc(xx), runs)
            print(f"{layout:<16}{'bf16 autocast' if bf16 else 'fp32':<15}{seconds * 1e3:>10.1f}"
                  f"{flops / seconds / 1e9:>10.1f}")


if __name__ == "__main__":
    main()
