"""Many processes, GPUs and machines with PyTorch's own engine: torchrun + DistributedDataParallel.

Kept small and visible (after nanoGPT's train.py): torchrun sets RANK, LOCAL_RANK and WORLD_SIZE;
`setup()` reads them, joins the process group (nccl on GPUs, gloo on CPU) and returns a Dist.
`is_main` (rank 0) alone logs, writes history, checkpoints and samples; every rank trains on its
own share of each global batch (batch_size per process x world_size), with its own augmentation
seed; gradients are averaged by DDP; validation is split over the ranks and summed back.

    torchrun --nproc_per_node=2 -m chromatize train photos/ --out runs/ddp        # one machine
    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 --rdzv_backend=c10d \
        --rdzv_endpoint=HOST:29500 -m chromatize train photos/ --out runs/ddp    # on each machine
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    local_rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    def shard(self, items: list) -> list:
        """This rank's deterministic share of a list (every world-th item from its rank)."""
        return items[self.rank::self.world]

    def sum(self, *values: float) -> list[float]:
        """Element-wise sums over the ranks (the values themselves when alone)."""
        if not self.enabled:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        return t.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on one (a stop, a spent time budget)."""
        return bool(self.sum(float(flag))[0]) if self.enabled else flag

    def gather(self, value) -> list:
        """Every rank's value, on every rank."""
        if not self.enabled:
            return [value]
        out = [None] * self.world
        dist.all_gather_object(out, value)
        return out

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def from_environment() -> Dist:
    """The Dist torchrun describes, without joining anything (a plain run: rank 0 of 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    return Dist(rank=int(os.environ["RANK"]), local_rank=int(os.environ.get("LOCAL_RANK", "0")), world=world)


def setup(device: str = "auto") -> Dist:
    """Join torchrun's process group (if launched by torchrun). device: 'cuda' or 'auto' with GPUs
    use nccl and this process's GPU (cuda:LOCAL_RANK); otherwise gloo on the CPU."""
    info = from_environment()
    if not info.enabled or dist.is_initialized():
        return info
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(info.local_rank)
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return info


def device_for(info: Dist, device: str) -> str:
    """The device string this rank uses: its own GPU under torchrun, else as asked."""
    if info.enabled and device != "cpu" and torch.cuda.is_available():
        return f"cuda:{info.local_rank}"
    return device


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
