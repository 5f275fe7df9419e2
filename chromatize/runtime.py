"""Where tensors run: device choice and the CPU speed settings, resolved in one place."""
from __future__ import annotations

import os

import torch


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
