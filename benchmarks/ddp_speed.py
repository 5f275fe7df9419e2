"""Training throughput of one process against several under torchrun, with the same global batch.

    .venv/bin/python benchmarks/ddp_speed.py PHOTOS [--procs 2] [--steps 30] [--global-batch 16]

Runs `chromatize train` (default recipe, fixed number of steps) once as a single process with the
global batch, then under `torchrun --standalone --nproc_per_node=N` with global batch / N per
process (gloo on CPU, nccl on GPUs), and prints images/s of each from their history.csv. Torch's
threads are split so the processes share the cores (OMP_NUM_THREADS = cores / N).
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], threads: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def images_per_s(run_dir: Path) -> float:
    with open(run_dir / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    return sorted(float(r["images_per_s"]) for r in rows)[len(rows) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos")
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--global-batch", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    common = ["train", args.photos, "--steps-per-epoch", str(args.steps // 3), "--epochs", "3", "--device",
              args.device, "--sample-every", "0", "--max-images", "64", "-q"]
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "one", Path(tmp) / "many"
        t1 = run([sys.executable, "-m", "chromatize", *common, "--out", str(one),
                  "--batch-size", str(args.global_batch)], cores)
        tn = run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.procs}",
                  "-m", "chromatize", *common, "--out", str(many),
                  "--batch-size", str(args.global_batch // args.procs)], max(1, cores // args.procs))
        r1, rn = images_per_s(one), images_per_s(many)
    print(f"{cores} cores, {args.steps} steps of a global batch of {args.global_batch}")
    print(f"{'processes':>10}{'images/s (median epoch)':>26}{'wall s':>9}")
    print(f"{1:>10}{r1:>26.1f}{t1:>9.1f}")
    print(f"{args.procs:>10}{rn:>26.1f}{tn:>9.1f}")
    print(f"speed-up: {rn / r1:.2f}x")


if __name__ == "__main__":
    main()
