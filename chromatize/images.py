"""Image files in and out: every PIL mode to lightness (+ alpha), and atomic writes."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .color import gray8_to_l, gray_to_l, merged_strips, rgb8_to_l
from .fileio import atomic_write
from .rowfiles import ROW_SUFFIXES, write_png, write_tiff

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm"}
# PIL format names of the extensions we write, and whether they can hold an alpha channel.
_FORMATS = {".jpg": ("JPEG", False), ".jpeg": ("JPEG", False), ".png": ("PNG", True),
            ".bmp": ("BMP", False), ".tif": ("TIFF", True), ".tiff": ("TIFF", True),
            ".webp": ("WEBP", True), ".gif": ("GIF", True), ".ppm": ("PPM", False), ".pgm": ("PPM", False)}


DEFAULT_MAX_MEGAPIXELS = 200.0          # a 100-megapixel scan passes; a decompression bomb does not
_limits = {"megapixels": DEFAULT_MAX_MEGAPIXELS}
Image.MAX_IMAGE_PIXELS = int(DEFAULT_MAX_MEGAPIXELS * 4_000_000)
warnings.simplefilter("ignore", Image.DecompressionBombWarning)      # check_pixels says it, in one line


class ImageError(Exception):
    """A file that cannot be used as an image; the message names the file and the problem."""


def set_max_megapixels(limit: float) -> None:
    """Images declaring more pixels than this are refused before they are decoded."""
    if not limit > 0:
        raise ValueError(f"the megapixel limit must be positive, got {limit}")
    _limits["megapixels"] = float(limit)
    Image.MAX_IMAGE_PIXELS = int(limit * 4_000_000)      # PIL's own guard stays behind ours (it raises at 2x)


def check_pixels(path: str | Path, size: tuple[int, int]) -> None:
    megapixels = size[0] * size[1] / 1e6
    if megapixels > _limits["megapixels"]:
        raise ImageError(f"{path}: {size[0]}x{size[1]} is {megapixels:.0f} megapixels, over the limit of "
                         f"{_limits['megapixels']:g} (raise it with --max-megapixels)")


@dataclass
class Lightness:
    """An image reduced to what the colorizer needs.

    l_full: (1, 1, H, W) float32, L in [0, 100] at full resolution.
    alpha: (H, W) uint8 or None.
    """

    l_full: torch.Tensor
    alpha: np.ndarray | None


def open_image(path: str | Path) -> Image.Image:
    """Open and fully decode an image file, applying its EXIF orientation."""
    if Path(path).exists() and not Path(path).is_file():
        raise ImageError(f"{path}: not a regular file (a folder, pipe or device)")
    if Path(path).is_symlink() and not Path(path).exists():
        raise ImageError(f"{path}: a broken or looping symbolic link")
    try:
        with Image.open(path) as img:
            check_pixels(path, img.size)
            img.load()
            ImageOps.exif_transpose(img, in_place=True)          # no second full-size copy
            return img
    except FileNotFoundError:
        raise ImageError(f"{path}: file not found") from None
    except Image.DecompressionBombError as err:
        raise ImageError(f"{path}: too many pixels ({err}; raise the limit with --max-megapixels)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file PIL can read") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"{path}: cannot decode image ({err})") from None


def to_rgb_array(img: Image.Image) -> np.ndarray:
    """Any PIL image -> (H, W, 3) uint8 sRGB (alpha dropped, 16-bit scaled down)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return np.repeat(_high_depth_to_unit(img)[..., None] * 255, 3, axis=2).round().astype(np.uint8)
    return np.asarray(img.convert("RGB"))


def to_lightness(img: Image.Image) -> Lightness:
    """Any PIL image -> full-resolution L (+ alpha when the image has one)."""
    alpha = _alpha_of(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        gray = torch.from_numpy(_high_depth_to_unit(img))[None, None]
        return Lightness(gray_to_l(gray), alpha)
    if img.mode in ("L", "LA", "1") or (img.mode == "P" and _palette_is_gray(img)):
        gray = np.asarray(img if img.mode == "L" else img.convert("L"))
        return Lightness(_lightness_in_strips(gray, gray8_to_l), alpha)
    rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
    return Lightness(_lightness_in_strips(rgb, rgb8_to_l), alpha)


def _lightness_in_strips(pixels: np.ndarray, to_l, strip_rows: int = 256) -> torch.Tensor:
    """(H, W) or (H, W, 3) uint8 -> (1, 1, H, W) float32 L, through the lookup tables of color.py
    a strip at a time (no full-size float temporaries: a 100-megapixel scan stays small)."""
    h, w = pixels.shape[:2]
    l_full = torch.empty(1, 1, h, w, dtype=torch.float32)
    for top in range(0, h, strip_rows):
        l_full[0, :, top:top + strip_rows] = to_l(pixels[None, top:top + strip_rows])[0]
    return l_full


def _alpha_of(img: Image.Image) -> np.ndarray | None:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return np.asarray(img.convert("RGBA"))[..., 3].copy()
    return None


def _palette_is_gray(img: Image.Image) -> bool:
    rgb = np.asarray(img.getpalette() or [], dtype=np.int16).reshape(-1, 3)
    return bool(len(rgb)) and bool((rgb.max(1) - rgb.min(1)).max() == 0)


def _high_depth_to_unit(img: Image.Image) -> np.ndarray:
    """16-bit / 32-bit / float grey -> (H, W) float32 in [0, 1].

    I;16 is always scaled by 65535; I and F by the smallest of 1, 255 or 65535 that holds the data.
    """
    arr = np.asarray(img, dtype=np.float32)
    peak = float(arr.max()) if arr.size else 0.0
    if img.mode.startswith("I;16") or peak > 255:
        top = 65535.0
    else:
        top = 1.0 if img.mode == "F" and peak <= 1 else 255.0
    return np.clip(arr / top, 0, 1)


def output_format(path: Path) -> tuple[str, bool]:
    """PIL format name for a path's extension and whether it keeps alpha."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path}: cannot write format {path.suffix!r}; use one of {', '.join(sorted(_FORMATS))}")
    return fmt


def save_atomic(img: Image.Image, path: Path, **params) -> None:
    """Write an image through a temporary file in the same folder, then rename over `path`."""
    fmt, keeps_alpha = output_format(path)
    if not keeps_alpha and img.mode == "RGBA":
        img = img.convert("RGB")
    if fmt == "JPEG":
        params.setdefault("quality", 95)
    atomic_write(path, lambda tmp: img.save(tmp, format=fmt, **params))


def save_colorized(light: Lightness, ab_norm_small: torch.Tensor, path: Path) -> None:
    """Paste predicted colour onto the full-resolution L and write it, atomically, without ever
    holding the whole output as floats: PNG and TIFF go out a strip of rows at a time (rowfiles.py),
    other formats are assembled strip by strip into one 8-bit image and encoded."""
    fmt, keeps_alpha = output_format(path)
    alpha = light.alpha if keeps_alpha else None
    h, w = light.l_full.shape[-2:]
    strips = merged_strips(light.l_full, ab_norm_small)
    writer = {"png": write_png, "tiff": write_tiff}.get(ROW_SUFFIXES.get(path.suffix.lower(), ""))
    if writer:
        rows = (rgb if alpha is None else np.dstack((rgb, alpha[top:top + len(rgb)])) for top, rgb in strips)
        atomic_write(path, lambda tmp: writer(tmp, w, h, 3 if alpha is None else 4, rows))
        return
    img = Image.new("RGB", (w, h))
    for top, rgb in strips:
        img.paste(Image.fromarray(rgb, "RGB"), (0, top))
    if alpha is not None:
        img.putalpha(Image.fromarray(alpha, "L"))
    save_atomic(img, path)


def find_images(root: Path, extensions: set[str] = IMAGE_EXTENSIONS) -> list[Path]:
    """Files with one of `extensions` under a folder (recursive, sorted), or the file itself."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ImageError(f"{root}: no such file or folder")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in extensions and not p.is_dir())
