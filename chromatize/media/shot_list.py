"""`chromatize shots`: the shots of a video or animation, found as colorizing finds them (the
frames' L at the size the default model sees them, shots.CutDetector), with a thumbnail of each
shot's first frame if asked."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from ..fileio import atomic_write
from ..images import ImageError
from ..inference import DEFAULT_SIZE
from ..inference.colorizer import model_shape, resize_l
from .animation import is_animation, read_animation
from .frames import frames_lightness
from .shots import CUT_THRESHOLD, CutDetector, Shot, to_l8
from .video_read import VideoError, VideoReader, ffmpeg_reason, is_video, pyav

THUMBNAIL_SIDE = 320


def list_shots(path: Path, *, size: int = DEFAULT_SIZE, thumbnails: Path | None = None,
               threshold: float = CUT_THRESHOLD) -> tuple[list[Shot], list[Path]]:
    """The shots of a video or animation file, and the thumbnails of their first frames written
    into the folder `thumbnails` (NAME-shot-001.jpg, ...; none without it)."""
    detector, starts, written, count = CutDetector(threshold), [], [], 0
    for index, (frame, seconds) in enumerate(_frames(path)):
        l_small = resize_l(frames_lightness([frame]), model_shape(*frame.shape[:2], size=size, upscale=False))
        if detector.first(to_l8(l_small[0, 0].numpy())):
            starts.append((index, seconds))
            if thumbnails is not None:
                written.append(_thumbnail(frame, thumbnails / f"{path.stem}-shot-{len(starts):03d}.jpg"))
        count = index + 1
    ends = [first for first, _ in starts[1:]] + [count]
    shots = [Shot(n, first, seconds, end - first) for n, ((first, seconds), end) in enumerate(zip(starts, ends), 1)]
    return shots, written


def _frames(path: Path) -> Iterator[tuple[np.ndarray, float]]:
    """(frame, seconds on the file's clock) in order."""
    if is_animation(path):
        anim = read_animation(path)
        clock = np.cumsum([0] + anim.durations[:-1]) / 1000
        yield from zip(anim.frames, clock.tolist())
        return
    if not is_video(path):
        raise ImageError(f"{path}: not a video or an animated GIF/WebP/PNG")
    av = pyav()
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(f"{path}: not a readable video ({ffmpeg_reason(err)})") from err
    with container:
        if not container.streams.video:
            raise VideoError(f"{path}: no video stream")
        reader = VideoReader(container, None, None)
        reader.start()
        try:
            for array, seconds, clock in reader.frames():
                yield array, float(clock if clock is not None else seconds)
        finally:
            reader.stop()
        reader.check()


def _thumbnail(frame: np.ndarray, target: Path) -> Path:
    img = Image.fromarray(frame)
    img.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    atomic_write(target, lambda tmp: img.convert("RGB").save(tmp, format="JPEG", quality=85))
    return target
