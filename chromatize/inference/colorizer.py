"""Colorizer: predict ab at model resolution, paste it onto the original full-resolution L.

The path of one photo (Colorizer.predict, then images.save_colorized or _compose):

    image file / PIL / array --images.to_lightness--> l_full (1, 1, H, W), L in [0, 100] (+ alpha, metadata)
      --model_input--> the L the model sees, long side `size` (default 256), rounded to `model.multiple`
      --point_hints / reference_hint--> hint inputs (models/hint_inputs.py): point maps (1, 3, h, w),
                                        a reference palette (1, Q + 2)
      --model.run--> logits over the Q ab bins (classifiers) or ab_norm (regression), (B, ., h, w)
      --after the network (_ab_chunk)--> a reference's palette favoured and its statistics steered
                          to (propagation.py), faces kept to skin hues (faces.py, photos only), points
                          followed over their regions (propagation.follow_points)
      --decode--> ab_norm (1, 2, h, w) in [-1, 1], scaled by `strength`
      --color.merged_strips--> upsampled and pasted onto l_full, a strip of rows at a time -> sRGB

load() resolves a model name once (models/files.py) and returns a Colorizer around the network;
for_frames() is the one video and animation frames use (an ensemble's first member alone on CPUs
without a fast bf16 path). The knobs: `size`, `strength`, `propagate`, `skin`, and `metadata`
(what an output file carries: metadata.py).
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..color import l_to_gray, merge_l_ab, normalize_ab, normalize_l, rgb_to_lab
from .faces import DETECT_SIDE, Face, find_faces, skin_blend
from ..models.hint_inputs import reference_vector
from .points import as_points, check_inside, point_maps
from .propagation import favour_palette, follow_points, hint_regions, propagate, steer_to_reference
from ..version import __version__
from ..images import Lightness, open_image, save_colorized, to_lightness, to_rgb_array
from ..metadata import KEEP_AND_MARK, Policy
from ..models import load_model, resolve, set_decode_knobs
from ..models.card import is_default
from ..models.files import DEFAULT_NAME, is_run_folder
from ..models.onnx_io import OnnxNetwork, cached_onnx
from ..runtime import autocast, cpu_has_fast_bf16, prepare, resolve_device

STEER = 1.0                 # how far a reference palette's statistics are transferred (chosen on tune)
REFERENCE_SIDE = 256        # a reference photo's palette is read at this long side

DEFAULT_SIZE = 256          # long side the model sees, in pixels


RUNTIMES = ("torch", "onnx")


def load(model: str | Path = "default", *, size: int = DEFAULT_SIZE, device: str = "auto",
         batch_size: int = 8, temperature: float | None = None, chroma_gain: float | None = None,
         propagate: bool = True, runtime: str = "torch", skin: bool = True) -> "Colorizer":
    """A ready Colorizer: 'default' (the shipped model), a .safetensors file, a .pt checkpoint,
    a training run folder or an exported .onnx graph. temperature and chroma_gain override a
    classifier's decode knobs (annealed-mean temperature; how much unsure colour is held back, see
    models/_layers.py); propagate: after the network, point hints settle the colours it hesitated
    over and what it missed spreads over their regions (propagation.follow_points); skin: faces found
    on a photo keep to skin hues (faces.py). runtime "onnx"
    runs the network in onnxruntime: a PyTorch model is exported once into the cache folder
    (models.onnx_io), an .onnx graph is run as it is."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    path = resolve(model)
    if path.suffix == ".onnx" or runtime == "onnx":
        if temperature is not None or chroma_gain is not None:
            raise ValueError("the decode knobs are baked into an ONNX graph: export again with "
                             "--temperature / --chroma-gain, or use --runtime torch")
        if device not in ("auto", "cpu"):
            raise ValueError(f"the onnx runtime runs on the CPU here, not on {device!r}")
        net = OnnxNetwork(path if path.suffix == ".onnx" else cached_onnx(path))
        return Colorizer(net, size=size, device="cpu", batch_size=batch_size, propagate=propagate, skin=skin,
                         name=_model_name(model))
    net = load_network(path, temperature=temperature, chroma_gain=chroma_gain)
    return Colorizer(net, size=size, device=device, batch_size=batch_size, propagate=propagate, skin=skin,
                     name=_model_name(model))


def _model_name(model: str | Path) -> str:
    """What the provenance mark calls a model: "default", or its file or folder name."""
    return DEFAULT_NAME if is_default(model) else Path(model).name


def load_network(model: str | Path = "default", *, temperature: float | None = None,
                 chroma_gain: float | None = None) -> torch.nn.Module:
    """The network alone ('default', a model file or a run folder; decode knobs as in load()), for
    several Colorizers to share."""
    path = resolve(model)
    net = load_model(path)
    for part in net.parts:                               # an ensemble's members too: frames may run one alone
        set_decode_knobs(part, path, temperature=temperature, chroma_gain=chroma_gain)
    return net


def run_folders(folder: str | Path) -> list[Path]:
    """The training run folders directly inside `folder` that hold a model, by name."""
    return [run for run in sorted(Path(folder).iterdir()) if is_run_folder(run)]


def colorize_image(image: Image.Image | np.ndarray, model: str | Path = "default", **options) -> Image.Image:
    """One-off convenience: load a model and colorize one image (use load() for many)."""
    return load(model, **options).colorize(image)


class Colorizer:
    """Colorizes PIL images or numpy arrays; the output has the input's size and mode family
    (grey -> RGB, grey+alpha / RGBA / transparent palette -> RGBA, anything else -> RGB)."""

    def __init__(self, model: torch.nn.Module, *, size: int = DEFAULT_SIZE, device: str = "auto",
                 batch_size: int = 8, strength: float = 1.0, propagate: bool = True, skin: bool = True,
                 name: str = "custom", metadata: Policy = KEEP_AND_MARK):
        if size < model.multiple:
            raise ValueError(f"size must be at least {model.multiple}, got {size}")
        if not 0 <= strength <= 4:
            raise ValueError(f"strength must be in [0, 4], got {strength}")
        self.device = resolve_device(device)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        self.size, self.batch_size = size, batch_size
        self.strength = strength        # the predicted ab are scaled by this: 0 = grey, 1 = as predicted
        self.propagate = propagate      # follow point hints after the network (propagation.follow_points)
        self.steer = STEER              # a reference's colour statistics pulled in this much (propagation.steer_to_reference)
        self.skin = skin and model.is_classifier   # faces kept to skin hues (faces.py), photos only
        self.name = name                # the model's name in the provenance mark (software)
        self.metadata = metadata        # what outputs carry of the input's metadata, and the mark (metadata.py)

    @property
    def software(self) -> str:
        """The mark's EXIF Software and XMP software agent: "chromatize X.Y.Z (model NAME)"."""
        return f"chromatize {__version__} (model {self.name})"

    def for_frames(self) -> "Colorizer":
        """The colorizer for video and animation frames: this one, or, where the model is an
        ensemble and the device has no fast bf16 path (CUDA or an AMX CPU), a copy that runs the
        ensemble's first member alone, decoded by its own knobs (chosen for it alone on tune, unless
        load() was given others): two members on such a CPU would take 640x480 video below 15
        frames/s (BENCHMARKS.md, "Two seeds as the default")."""
        primary = self.model.primary
        if primary is self.model or self.device.type == "cuda" or cpu_has_fast_bf16():
            return self
        fast = copy.copy(self)
        fast.model = primary                # a submodule of self.model: on the device, in eval mode already
        return fast

    @property
    def takes_hints(self) -> bool:
        return self.model.takes_hints

    def colorize(self, image: Image.Image | np.ndarray, *, hints=None, reference=None) -> Image.Image:
        """hints: [(x, y, colour), ...] in the image's own pixels, colour (r, g, b) 0-255 or
        "#rrggbb"; reference: a photo (PIL image, array or path) whose colours to lean towards."""
        return self.colorize_batch([image], hints=[hints], reference=reference)[0]

    def colorize_batch(self, images: list[Image.Image | np.ndarray], *, hints: list | None = None,
                       reference=None) -> list[Image.Image]:
        """Colorize several images; images whose model input has the same shape share a batch.
        hints: one hint list per image (or None); reference: one reference for all of them."""
        return [_compose(light, ab) for light, ab in self.predict(images, hints=hints, reference=reference)]

    def predict(self, images: list[Image.Image | np.ndarray], *, hints: list | None = None,
                reference=None) -> list[tuple[Lightness, torch.Tensor]]:
        """Images -> (full-resolution L, predicted ab_norm at model resolution) pairs, to paste with
        color.merge_l_ab or write with images.save_colorized (as colorize_batch, before the paste)."""
        lights = [to_lightness(_as_pil(img)) for img in images]
        hints = hints or [None] * len(lights)
        points = [self.point_hints(light.l_full, h) for light, h in zip(lights, hints)]
        faces = [self.faces(light.l_full, h) for light, h in zip(lights, hints)] if self.skin else None
        ab_small = self.ab_norm_small([light.l_full for light in lights], points=points,
                                      reference=self.reference_hint(reference), faces=faces)
        return list(zip(lights, ab_small))

    def faces(self, l_full: torch.Tensor, hints=None) -> list[Face]:
        """The faces of a (1, 1, H, W) L (faces.find_faces), less those a user's point falls in."""
        height, width = l_full.shape[-2:]
        scale = min(1.0, DETECT_SIDE / max(height, width))
        small = resize_l(l_full, (max(1, round(height * scale)), max(1, round(width * scale))))
        gray = (l_to_gray(small)[0, 0] * 255).round().to(torch.uint8).numpy()
        points = as_points(hints)
        return [f for f in find_faces(gray) if not any(f.holds(p.x / width, p.y / height) for p in points)]

    def colorize_to_file(self, image: Image.Image | np.ndarray, path: str | Path, *, hints=None,
                         reference=None) -> Path:
        """Colorize and write in one go (images.save_colorized): a 100-megapixel PNG or TIFF never
        exists whole in memory as the output; the input file's metadata goes along (self.metadata),
        16-bit stays 16-bit in PNG and TIFF."""
        [(light, ab)] = self.predict([image], hints=[hints], reference=reference)
        save_colorized(light, ab, Path(path), policy=self.metadata, software=self.software)
        return Path(path)

    @torch.no_grad()
    def confidence(self, image: Image.Image | np.ndarray, *, hints=None, reference=None) -> Image.Image:
        """Where the model is sure of its colour: a grey "L" image of the input's size, 255 where
        the predicted colour distribution is one bin, 0 where every bin is alike (1 - normalised
        entropy; models.BinColorNet.certainty), upsampled from model resolution."""
        light = to_lightness(_as_pil(image))
        small = self.model_input(light.l_full)                                     # (1, 1, h, w)
        kw = {}
        points = self.point_hints(light.l_full, hints)
        if points is not None:
            kw["points"] = prepare(points, self.device)
        if (palette := self.reference_hint(reference)) is not None:
            kw["reference"] = palette.to(self.device)
        with autocast(self.device):
            _, sure = self.model.ab_norm_and_certainty(normalize_l(prepare(small, self.device)), **kw)
        sure = F.interpolate(sure.float().cpu(), size=light.l_full.shape[-2:], mode="bilinear",
                             align_corners=False)                                  # (1, 1, H, W)
        return Image.fromarray((sure[0, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy(), "L")

    def point_hints(self, l_full: torch.Tensor, hints) -> torch.Tensor | None:
        """[(x, y, colour), ...] on a (1, 1, H, W) image -> (1, 3, h, w) hint maps (None for none)."""
        points = as_points(hints)
        if not points:
            return None
        self.require_hints("colour hints")
        if keyed := next((p for p in points if p.frame or p.time is not None), None):
            raise ValueError(f"the hint at ({keyed.x:g}, {keyed.y:g}) on {keyed.keyframe} is for a video or "
                             f"animation; a photo has one frame")
        height, width = l_full.shape[-2:]
        check_inside(points, width, height)
        return point_maps(points, (height, width), self.model_shape(height, width))

    def reference_hint(self, reference) -> torch.Tensor | None:
        """A reference photo (PIL image, array or path) -> (1, Q + 2) palette vector (None for none);
        a palette vector already made is passed through."""
        if reference is None:
            return None
        self.require_hints("a reference photo")
        if isinstance(reference, torch.Tensor):
            return reference
        if isinstance(reference, (str, Path)):
            img = open_image(reference)
        else:
            img = _as_pil(reference)
        img = img.copy()
        img.thumbnail((REFERENCE_SIDE, REFERENCE_SIDE))
        rgb = torch.from_numpy(to_rgb_array(img).astype(np.float32) / 255).permute(2, 0, 1)[None]
        ab_norm = normalize_ab(rgb_to_lab(rgb)[:, 1:])                           # (1, 2, h, w)
        return reference_vector(ab_norm, self.model.bin_centers.cpu())

    def require_hints(self, what: str) -> None:
        if not self.takes_hints:
            raise ValueError(f"{what} need a model trained with hints (the default is); this one was not")

    def model_input(self, l_full: torch.Tensor, *, upscale: bool = True) -> torch.Tensor:
        """(B, 1, H, W) L -> (B, 1, h, w) the L the model sees (see model_shape)."""
        return resize_l(l_full, self.model_shape(*l_full.shape[-2:], upscale=upscale))

    def model_shape(self, height: int, width: int, *, upscale: bool = True) -> tuple[int, int]:
        """The (h, w) the model sees: long side `size`, both sides multiples of the model's stride;
        with upscale=False an image smaller than that keeps its size, rounded up to the stride (video
        and animation frames: a tiny GIF runs at its own size)."""
        return model_shape(height, width, size=self.size, multiple=self.model.multiple, upscale=upscale)

    @torch.no_grad()
    def ab_norm_small(self, l_fulls: list[torch.Tensor], *, points: list | None = None,
                      reference: torch.Tensor | None = None, faces: list | None = None) -> list[torch.Tensor]:
        """(1, 1, H, W) L tensors -> (1, 2, h, w) ab_norm at model resolution, batched by shape.
        points: per image (1, 3, h, w) hint maps or None; reference: (1, Q + 2) or None; faces:
        per image its faces (faces.Face) or None."""
        out: list[torch.Tensor | None] = [None] * len(l_fulls)
        by_shape: dict[tuple, list[int]] = {}
        for i, l in enumerate(l_fulls):
            by_shape.setdefault(tuple(l.shape[-2:]), []).append(i)
        for indices in by_shape.values():
            hint_maps = None
            if points and any(points[i] is not None for i in indices):
                h, w = self.model_shape(*l_fulls[indices[0]].shape[-2:])
                hint_maps = torch.cat([points[i] if points[i] is not None else torch.zeros(1, 3, h, w)
                                       for i in indices])
            _, ab = self.predict_frames(torch.cat([l_fulls[i] for i in indices]), points=hint_maps,
                                        reference=reference, faces=[faces[i] for i in indices] if faces else None)
            for i, row in zip(indices, ab):
                out[i] = row[None]
        return out

    @torch.no_grad()
    def predict_frames(self, l_full: torch.Tensor, *, points: torch.Tensor | None = None,
                       reference: torch.Tensor | None = None, small: torch.Tensor | None = None,
                       faces: list | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) L of same-size frames -> the L the model saw (B, 1, h, w) and its
        ab_norm (B, 2, h, w), run `batch_size` frames at a time. points: (B, 3, h, w) hint maps
        (models/hint_inputs.py) or None; reference: (1, Q + 2) palette for every frame, or None; small: the
        model_input(l_full) when the caller has it already; faces: per frame its faces.Face list."""
        small = self.model_input(l_full) if small is None else small
        ab = []
        for start in range(0, small.shape[0], self.batch_size):
            chunk = slice(start, start + self.batch_size)
            batch = prepare(small[chunk], self.device)
            hints = {}
            if points is not None:
                hints["points"] = prepare(points[chunk], self.device)
            if reference is not None:
                hints["reference"] = reference.expand(batch.shape[0], -1).to(self.device)
            ab_chunk = self._ab_chunk(batch, hints, small[chunk], None if points is None else points[chunk],
                                      reference, faces[chunk] if faces and any(faces[chunk]) else None)
            ab.append(ab_chunk)
        if self.strength != 1:
            ab = [(a * self.strength).clamp(-1, 1) for a in ab]
        return small, torch.cat(ab)

    def _ab_chunk(self, batch: torch.Tensor, hints: dict, small: torch.Tensor, points: torch.Tensor | None,
                  reference: torch.Tensor | None, faces: list | None = None) -> torch.Tensor:
        """One batch on the device (hints: its inputs there) -> ab_norm on the CPU: a reference's
        palette favoured and its statistics steered towards (propagation.favour_palette,
        steer_to_reference), faces kept to skin hues (faces.skin_blend), the points followed
        (propagation.follow_points; small and points: the batch's L and hint maps on the CPU)."""
        l_norm = normalize_l(batch)
        steered = lambda ab: self._steered(ab.float().cpu(), reference=reference)
        follow = self.propagate and points is not None
        if self.model.is_classifier and (follow or reference is not None or faces):
            with autocast(self.device):
                out = self.model.run(l_norm, **hints).float()
            if reference is not None:
                out = favour_palette(out, hints["reference"])
            decode = lambda logits: steered(self._with_skin(logits, self.model.ab_norm_of(logits, l_norm), faces, batch))
            if not follow:
                return decode(out)
            return follow_points(out, small, points, decode, centers=self.model.bin_centers)
        with autocast(self.device):
            ab = steered(self.model.ab_norm(l_norm, **hints))
        return propagate(ab, hint_regions(small, points)) if follow else ab

    def _with_skin(self, logits: torch.Tensor, ab_norm: torch.Tensor, faces: list | None,
                   l: torch.Tensor) -> torch.Tensor:
        if not faces:
            return ab_norm
        temperature = getattr(self.model, "temperature", None) or self.model.config["temperature"]
        return skin_blend(logits, ab_norm, faces, self.model.bin_centers.to(logits.device),
                          temperature=temperature, l=l)

    def _steered(self, ab: torch.Tensor, *, reference: torch.Tensor | None) -> torch.Tensor:
        """ab_norm moved towards a reference palette's statistics (propagation.steer_to_reference)."""
        if reference is None or not self.steer:
            return ab
        return steer_to_reference(ab, reference.float(), self.model.bin_centers.cpu(), strength=self.steer)


def model_shape(height: int, width: int, *, size: int = DEFAULT_SIZE, multiple: int = 32,
                upscale: bool = True) -> tuple[int, int]:
    """See Colorizer.model_shape; `chromatize shots` sees frames at this size without a model."""
    m = multiple
    if not upscale and max(height, width) <= size:
        return (max(m, -(-height // m) * m), max(m, -(-width // m) * m))
    scale = size / max(height, width)
    return (max(m, round(height * scale / m) * m), max(m, round(width * scale / m) * m))


def resize_l(l_full: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B, 1, H, W) -> (B, 1, h, w), antialiased when shrinking."""
    if tuple(l_full.shape[-2:]) == shape:
        return l_full
    return F.interpolate(l_full, size=shape, mode="bilinear", align_corners=False, antialias=True)


def _compose(light: Lightness, ab_norm_small: torch.Tensor) -> Image.Image:
    """Full-resolution L + predicted ab -> RGB, or RGBA when the input had alpha."""
    rgb = merge_l_ab(light.l_full, ab_norm_small)
    if light.alpha is not None:
        return Image.fromarray(np.dstack((rgb, light.alpha)), "RGBA")
    return Image.fromarray(rgb, "RGB")


def _as_pil(image: Image.Image | np.ndarray | str | Path) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, (str, Path)):
        return open_image(image)                          # as the command line opens it: EXIF rotation applied
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a PIL image, a numpy array or a file path, got {type(image).__name__}")
    arr = image
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.dtype == np.uint16 and arr.ndim == 2:
        return Image.fromarray(arr)                      # mode I;16
    if arr.dtype.kind == "f":
        arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"array must be (H, W), (H, W, 3) or (H, W, 4) uint8/uint16/float, "
                         f"got shape {arr.shape} dtype {arr.dtype}")
    return Image.fromarray(arr)
