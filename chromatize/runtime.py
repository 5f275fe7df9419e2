"""Where tensors run: device choice, the CPU speed settings and torchrun's processes, in one place.

Many processes, GPUs and machines use PyTorch's own engine, torchrun + DistributedDataParallel,
kept small and visible (after nanoGPT's train.py): torchrun sets RANK, LOCAL_RANK and WORLD_SIZE;
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
from datetime import timedelta

import torch
import torch.distributed as dist

log = logging.getLogger("chromatize")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but PyTorch sees no CUDA GPU here")
    if name not in ("cpu", "cuda") and not (name.startswith("cuda:") and name[5:].isdigit()):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {name!r}")
    return torch.device(name)


def cpu_has_fast_bf16() -> bool:
    """True when the CPU has AMX tiles, the only CPU bf16 path that beat fp32 for our convolutions.

    Without native bf16 PyTorch emulates it (about 10x slower than channels_last fp32 on an
    AVX2-only EPYC); with AVX512-BF16 but no AMX, a training step of the default model was 1.17x
    slower in bf16 than in fp32 on a 2-core Xeon (BENCHMARKS.md). So autocast is used only here.
    CHROMATIZE_BF16=0 in the environment turns it off (fp32 everywhere, as a CPU without AMX runs).
    """
    if os.environ.get("CHROMATIZE_BF16") == "0":
        return False
    try:
        return bool(torch.cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):
        return False


def prepare(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a (B, C, H, W) batch to the device in the layout convolutions run fastest in
    (other shapes just move)."""
    if x.ndim != 4:
        return x.to(device, non_blocking=True)
    return x.to(device, memory_format=torch.channels_last, non_blocking=True)


def autocast(device: torch.device, *, enabled: bool = True):
    """bf16 autocast on CUDA, or on CPUs with native bf16; a no-op elsewhere."""
    use = enabled and (device.type == "cuda" or cpu_has_fast_bf16())
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=use)

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


def teardown(*, together: bool = False) -> None:
    """Leave the process group. together (the command ended well on this rank): wait, at most a
    minute, for the other ranks first; a rank that destroys the group while another still talks to
    it can abort in gloo's threads at exit ("terminate called without an active exception"). A
    rank that failed leaves at once, so torchrun stops the rest."""
    if not dist.is_initialized():
        return
    try:
        if together:
            if dist.get_backend() == "gloo":
                dist.monitored_barrier(timeout=timedelta(seconds=60))
            else:
                dist.barrier()
    except RuntimeError as err:                  # a rank that failed or left: go without it
        log.warning("leaving the process group without the other ranks: %s", str(err).splitlines()[0])
    finally:
        dist.destroy_process_group()
