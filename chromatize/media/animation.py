"""Animated GIF, WebP and PNG: full frames in, colour animation out with the same timing.

Pillow composites each frame onto the canvas honouring disposal, blending and partial-frame
offsets, so every frame read here is a full canvas. The output keeps the frame count, each
frame's duration, the loop count and the size. GIF output shares one palette, built from all
the colorized frames, so colours do not shimmer between frames; Floyd-Steinberg dithering (on
by default) keeps skies from banding.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from ..images import ImageError, check_pixels, save_atomic
from ..metadata import Metadata, mark_statement, pil_params, read_metadata
from .frames import FrameColorizer

ANIMATION_SUFFIXES = {".gif", ".webp", ".png"}
ANIMATION_FORMATS = ("gif", "webp", "png", "mp4")
# What Pillow raises on damaged files, besides OSError: truncated GIFs end in IndexError or EOFError.
_DAMAGED = (OSError, ValueError, EOFError, IndexError, SyntaxError, Image.DecompressionBombError)
PALETTE_SAMPLE = 64                                  # frames sampled to build the shared GIF palette


@dataclass
class Animation:
    frames: list[np.ndarray]            # (H, W, 3) RGB uint8, full canvases
    alphas: list[np.ndarray | None]     # (H, W) uint8 alpha per frame, or None when opaque
    durations: list[int]                # milliseconds per frame
    loop: int | None                    # the stored loop count (0 = forever); None = no loop entry, plays once
    meta: Metadata                      # comment (GIF), EXIF, XMP, ICC, text chunks (WebP, APNG)

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.frames[0].shape[:2]
        return w, h


def is_animation(path: Path) -> bool:
    """True for a GIF, WebP or PNG file with more than one frame."""
    if path.suffix.lower() not in ANIMATION_SUFFIXES or not path.is_file():
        return False
    try:
        with Image.open(path) as img:
            return getattr(img, "n_frames", 1) > 1
    except _DAMAGED:
        return path.suffix.lower() == ".gif"          # a damaged GIF: let read_animation report it


def read_animation(path: Path) -> Animation:
    try:
        with Image.open(path) as img:
            check_pixels(path, img.size)
            frames, alphas, durations = [], [], []
            skip_default = bool(img.info.get("default_image"))    # an APNG's still, not an animation frame
            for index, frame in enumerate(ImageSequence.Iterator(img)):
                if index == 0 and skip_default and getattr(img, "n_frames", 1) > 1:
                    continue
                rgba = np.asarray(frame.convert("RGBA"))
                alpha = rgba[..., 3]
                frames.append(np.ascontiguousarray(rgba[..., :3]))
                alphas.append(None if alpha.min() == 255 else alpha.copy())
                durations.append(int(frame.info.get("duration", img.info.get("duration", 100)) or 0))
            loop = img.info.get("loop")
            meta = read_metadata(img)
    except Image.DecompressionBombError as err:
        raise ImageError(f"{path}: too many pixels ({err}; raise the limit with --max-megapixels)") from None
    except _DAMAGED as err:
        raise ImageError(f"{path}: damaged or truncated animation ({err or type(err).__name__})") from err
    if not frames:
        raise ImageError(f"{path}: animation has no frames")
    return Animation(frames, alphas, durations, loop, meta)


def colorize_animation(frames: FrameColorizer, source: Path, target: Path, *, dither: bool = True,
                       crf: int = 18) -> int:
    """Colorize an animation into target (format from its suffix); returns the frame count."""
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ANIMATION_FORMATS:
        raise ImageError(f"{target}: cannot write an animation as {fmt!r} (use {', '.join(ANIMATION_FORMATS)})")
    anim = read_animation(source)
    frames.reset()
    if frames.needs_plan:                            # keyframe times are seconds into the animation
        clock = np.cumsum([0] + anim.durations[:-1]) / 1000
        frames.plan = frames.make_plan(zip(anim.frames, clock.tolist()), name=source.name)
    colored = list(frames.colorize(anim.frames))
    colorizer = frames.colorizer
    meta = anim.meta.for_output(colorizer.metadata, software=colorizer.software, size=anim.size, icc=None)
    if fmt == "gif" and colorizer.metadata.mark:        # a GIF has no EXIF or XMP: its comment says it
        meta.comment = (meta.comment + b"\n" if meta.comment else b"") + mark_statement(colorizer.software).encode()
    if fmt == "mp4":
        from .video_write import write_frames_video

        tags = {"comment": mark_statement(colorizer.software)} if colorizer.metadata.mark else {}
        write_frames_video(colored, anim.durations, target, crf=crf, tags=tags)
        return len(colored)
    images = [_with_alpha(rgb, alpha) for rgb, alpha in zip(colored, anim.alphas)]
    params: dict = {"save_all": True, "append_images": images[1:], "duration": anim.durations,
                    **pil_params(meta, fmt.upper())}
    if anim.loop is not None:
        params["loop"] = anim.loop
    if fmt == "gif":
        images = _quantize_shared(images, dither=dither)
        params.update(append_images=images[1:], disposal=2 if any(a is not None for a in anim.alphas) else 1,
                      optimize=False)
    elif fmt == "webp":
        params.update(quality=90, method=4)
    save_atomic(images[0], target, **params)
    return len(colored)


def _with_alpha(rgb: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    if alpha is None:
        return Image.fromarray(rgb, "RGB")
    return Image.fromarray(np.dstack((rgb, alpha)), "RGBA")


def _quantize_shared(images: list[Image.Image], *, dither: bool) -> list[Image.Image]:
    """One 255-colour palette for every frame (index 255 = transparent where a frame has alpha)."""
    step = max(1, len(images) // PALETTE_SAMPLE)
    sample = [img.convert("RGB") for img in images[::step]]
    w, h = sample[0].size
    scale = min(1.0, 256 / max(w, h))
    thumbs = [s.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX) for s in sample]
    sheet = Image.new("RGB", (thumbs[0].width, thumbs[0].height * len(thumbs)))
    for i, thumb in enumerate(thumbs):
        sheet.paste(thumb, (0, i * thumbs[0].height))
    palette = sheet.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    mode = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    out = []
    for img in images:
        indexed = img.convert("RGB").quantize(palette=palette, dither=mode)
        if img.mode == "RGBA":
            pixels = np.asarray(indexed).copy()
            pixels[np.asarray(img)[..., 3] < 128] = 255
            indexed = Image.fromarray(pixels, "P")
            indexed.putpalette(palette.getpalette())
            indexed.info["transparency"] = 255
        out.append(indexed)
    _keep_repeats(out)
    return out


def _keep_repeats(frames: list[Image.Image]) -> None:
    """Pillow folds a GIF frame identical to the one before into it (adding up the durations),
    which loses frames. A repeated frame gets its top-left pixel transparent instead: with
    disposal 1 the pixel underneath, the same colour, shows through, so it looks the same and
    stays a frame of its own. (With disposal 2, for animations with alpha, that one pixel shows
    the background.)"""
    previous = None
    for img in frames:
        pixels = np.asarray(img)
        if previous is not None and np.array_equal(pixels, previous):
            marked = pixels.copy()
            marked[0, 0] = 255
            img.frombytes(marked.tobytes())
            img.info["transparency"] = 255
        previous = np.asarray(img)
