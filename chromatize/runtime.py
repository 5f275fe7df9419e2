"""Where tensors run: device choice and the CPU speed settings, resolved in one place."""
from __future__ import annotations

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but PyTorch sees no CUDA GPU here")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX512-BF16 / AMX).

    Without them PyTorch emulates bf16 convolutions, which is far slower than fp32 (about 10x
    slower than channels_last fp32 on an AVX2-only EPYC; BENCHMARKS.md), so autocast is used
    only where this is true.
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def prepare(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a (B, C, H, W) batch to the device in the layout convolutions run fastest in."""
    return x.to(device, memory_format=torch.channels_last, non_blocking=True)


def autocast(device: torch.device, *, enabled: bool = True):
    """bf16 autocast on CUDA, or on CPUs with native bf16; a no-op elsewhere."""
    use = enabled and (device.type == "cuda" or cpu_has_fast_bf16())
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=use)
