"""Image files in and out: every PIL mode to lightness (+ alpha), and atomic writes.

Opening (open_image) applies the EXIF orientation, reads the file's metadata (metadata.py) into
`img.info[METADATA]`, converts pixels in an embedded ICC profile other than sRGB to sRGB
(LittleCMS through Pillow's ImageCms) and reads 16-bit colour PNG/TIFF, which Pillow would cut to
8 bits, at full depth (OpenCV) as the 16-bit grey of their luminance. 16-bit in gives 16-bit PNG and
TIFF out (save_colorized); every other format is 8-bit.
"""
from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .version import __version__
from .color import gray8_to_l, gray_to_l, linear_to_srgb, merged_strips, rgb8_to_l, srgb_to_linear
from .fileio import atomic_write
from .metadata import KEEP_AND_MARK, Metadata, Policy, pil_params, read_metadata, srgb_profile
from .rowfiles import ROW_SUFFIXES, write_png, write_tiff

log = logging.getLogger(__name__)
METADATA = "chromatize.metadata"            # key of an opened image's Metadata in img.info
_HIGH_DEPTH = ("I;16", "I;16B", "I;16L", "I", "F")
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)    # linear sRGB -> Y

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
    meta: what the file said about itself; bits: 16 for a 16-bit input, else 8.
    """

    l_full: torch.Tensor
    alpha: np.ndarray | None
    meta: Metadata = field(default_factory=Metadata)
    bits: int = 8


def open_image(path: str | Path) -> Image.Image:
    """Open and fully decode an image file: EXIF orientation applied, metadata read, pixels in
    sRGB (module docstring)."""
    if Path(path).exists() and not Path(path).is_file():
        raise ImageError(f"{path}: not a regular file (a folder, pipe or device)")
    if Path(path).is_symlink() and not Path(path).exists():
        raise ImageError(f"{path}: a broken or looping symbolic link")
    try:
        with Image.open(path) as img:
            check_pixels(path, img.size)
            deep = _is_deep_colour(img)
            img.load()
            meta = None
            if deep:                                             # the new image has no TIFF tags: read them first
                meta = read_metadata(img)
                img = _deep_colour(path, img)
            ImageOps.exif_transpose(img, in_place=True)          # no second full-size copy
            img.info[METADATA] = meta or read_metadata(img)      # after: an XMP orientation is reset too
            return to_srgb(img, path)
    except FileNotFoundError:
        raise ImageError(f"{path}: file not found") from None
    except Image.DecompressionBombError as err:
        raise ImageError(f"{path}: too many pixels ({err}; raise the limit with --max-megapixels)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file PIL can read") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"{path}: cannot decode image ({err})") from None


def _is_deep_colour(img: Image.Image) -> bool:
    """A PNG or TIFF with 16-bit colour samples (Pillow would decode it to 8 bits)."""
    if img.format not in ("PNG", "TIFF") or img.mode not in ("RGB", "RGBA") or not img.tile:
        return False
    raw = img.tile[0].args[0] if isinstance(img.tile[0].args, tuple) else img.tile[0].args
    return "16" in str(raw)


def _deep_colour(path: str | Path, img: Image.Image) -> Image.Image:
    """The 16-bit colour pixels of `path` as an I;16 image of their luminance's sRGB grey (all L
    needs), with `img`'s info and orientation tag; alpha is not kept at 16 bits."""
    pixels = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.dtype != np.uint16 or pixels.ndim != 3 or pixels.shape[:2] != img.size[::-1]:
        return img                                      # what OpenCV cannot read, Pillow's 8 bits do
    grey = np.empty(pixels.shape[:2], dtype=np.uint16)
    for top in range(0, grey.shape[0], 256):                            # strips: no full-size floats
        bgr = torch.from_numpy(pixels[top:top + 256, :, :3].astype(np.float32) / 65535)
        y = srgb_to_linear(bgr) @ torch.from_numpy(_LUMA[::-1].copy())              # (r, W)
        grey[top:top + 256] = (linear_to_srgb(y) * 65535).round().numpy().astype(np.uint16)
    out = Image.fromarray(grey)                                         # mode I;16
    out.info = dict(img.info)
    exif = Image.Exif()
    exif[0x0112] = img.getexif().get(0x0112, 1)                         # for exif_transpose
    out.info["exif"] = exif.tobytes()
    return out


def to_srgb(img: Image.Image, path: str | Path = "image") -> Image.Image:
    """Pixels in an embedded ICC profile other than sRGB converted to sRGB (grey profiles to
    RGB); 16-bit images are taken as they are (LittleCMS through Pillow works on 8 bits)."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return img
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space.strip()
        if "srgb" in ImageCms.getProfileDescription(profile).lower():
            return img
        alpha = img.getchannel("A") if img.mode in ("LA", "RGBA") else None
        mode = {"GRAY": "L", "RGB": "RGB", "CMYK": "CMYK"}[space]
        base = img if img.mode == mode else img.convert(mode)
        out = ImageCms.profileToProfile(base, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (OSError, KeyError, ValueError, ImageCms.PyCMSError) as err:
        log.warning("%s: its ICC profile cannot be used (%s); the pixels are taken as sRGB", path, err)
        return img
    if alpha is not None:
        out.putalpha(alpha)
    out.info = dict(img.info)
    return out


def to_rgb_array(img: Image.Image) -> np.ndarray:
    """Any PIL image -> (H, W, 3) uint8 sRGB (alpha dropped, 16-bit scaled down)."""
    if img.mode in _HIGH_DEPTH:
        return np.repeat(_high_depth_to_unit(img)[..., None] * 255, 3, axis=2).round().astype(np.uint8)
    return np.asarray(img.convert("RGB"))


def to_lightness(img: Image.Image) -> Lightness:
    """Any PIL image -> full-resolution L (+ alpha when the image has one, its metadata)."""
    alpha = _alpha_of(img)
    meta = img.info.get(METADATA) or read_metadata(img)
    if img.mode in _HIGH_DEPTH:
        pixels = np.asarray(img)
        top = _high_depth_top(pixels, img.mode)
        to_l = lambda rows: gray_to_l(torch.from_numpy(np.clip(rows.astype(np.float32) / top, 0, 1))[:, None])
        return Lightness(_lightness_in_strips(pixels, to_l), alpha, meta, bits=16 if img.mode != "F" else 8)
    if img.mode in ("L", "LA", "1") or (img.mode == "P" and _palette_is_gray(img)):
        gray = np.asarray(img if img.mode == "L" else img.convert("L"))
        return Lightness(_lightness_in_strips(gray, gray8_to_l), alpha, meta)
    rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
    return Lightness(_lightness_in_strips(rgb, rgb8_to_l), alpha, meta)


def _lightness_in_strips(pixels: np.ndarray, to_l, strip_rows: int = 256) -> torch.Tensor:
    """(H, W) or (H, W, 3) pixels -> (1, 1, H, W) float32 L, through `to_l` (the lookup tables of
    color.py for 8 bits) a strip at a time (no full-size float temporaries: a 100-megapixel scan stays small)."""
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
    """16-bit / 32-bit / float grey -> (H, W) float32 in [0, 1] (scaled as _high_depth_top says)."""
    arr = np.asarray(img, dtype=np.float32)
    return np.clip(arr / _high_depth_top(arr, img.mode), 0, 1)


def _high_depth_top(pixels: np.ndarray, mode: str) -> float:
    """White of 16-bit / 32-bit / float grey pixels of PIL mode `mode`: I;16 is always 65535; I
    and F the smallest of 1, 255 or 65535 that holds the data."""
    peak = float(pixels.max()) if pixels.size else 0.0
    if mode.startswith("I;16") or peak > 255:
        return 65535.0
    return 1.0 if mode == "F" and peak <= 1 else 255.0


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


def save_colorized(light: Lightness, ab_norm_small: torch.Tensor, path: Path, *, policy: Policy = KEEP_AND_MARK,
                   software: str | None = None) -> None:
    """Paste predicted colour onto the full-resolution L and write it, atomically, without ever
    holding the whole output as floats: PNG and TIFF go out a strip of rows at a time (rowfiles.py),
    16-bit when the input was; other formats are assembled strip by strip into one 8-bit image and
    encoded. The input's metadata goes along as `policy` says (metadata.Metadata.for_output); an
    input that carried an ICC profile gets sRGB's."""
    fmt, keeps_alpha = output_format(path)
    alpha = light.alpha if keeps_alpha else None
    h, w = light.l_full.shape[-2:]
    meta = light.meta.for_output(policy, software=software or f"chromatize {__version__}", size=(w, h),
                                 icc=srgb_profile() if light.meta.icc else None)
    writer = {"png": write_png, "tiff": write_tiff}.get(ROW_SUFFIXES.get(path.suffix.lower(), ""))
    strips = merged_strips(light.l_full, ab_norm_small, bits=light.bits if writer else 8)
    if writer:
        rows = (rgb if alpha is None else np.dstack((rgb, _alpha_rows(alpha[top:top + len(rgb)], rgb.dtype)))
                for top, rgb in strips)
        atomic_write(path, lambda tmp: writer(tmp, w, h, 3 if alpha is None else 4, rows, meta=meta))
        return
    img = Image.new("RGB", (w, h))
    for top, rgb in strips:
        img.paste(Image.fromarray(rgb, "RGB"), (0, top))
    if alpha is not None:
        img.putalpha(Image.fromarray(alpha, "L"))
    save_atomic(img, path, **pil_params(meta, fmt))


def _alpha_rows(alpha: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return alpha if dtype == np.uint8 else alpha.astype(np.uint16) * 257


def find_images(root: Path, extensions: set[str] = IMAGE_EXTENSIONS) -> list[Path]:
    """Files with one of `extensions` under a folder (recursive, sorted), or the file itself."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ImageError(f"{root}: no such file or folder")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in extensions and not p.is_dir())
