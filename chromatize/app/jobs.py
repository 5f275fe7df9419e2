"""What the web page does with an upload, without the page: check it against the limits, pick
the model, colorize it into the session's output folder, zip a batch.

Every failure a user can cause is an UploadError with a one-line message naming the file; the
page shows it as an error box. Outputs go to `Workspace.root` (a temporary folder the server
removes on exit), each in its own subfolder, under the upload's own name + `_color`.
"""
from __future__ import annotations

import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..fileio import atomic_write, printable
from ..images import ImageError, check_pixels, open_image, save_atomic
from ..inference import DEFAULT_SIZE, Colorizer, load_network, run_folders
from ..media.animation import is_animation, read_animation
from ..media.batch import SUFFIX, MediaOptions, colorize_media
from ..media.shot_list import list_shots
from ..media.video_read import frame_count, is_video, pyav, read_video_frames
from ..models.card import is_default
from ..models.files import DEFAULT_NAME

PLAYABLE_VIDEO = {".mp4", ".webm"}      # what a browser plays; other videos come back as .mp4 in the page


class UploadError(ValueError):
    """An upload the page refuses or cannot colorize; the message is one line naming the file."""


@dataclass(frozen=True)
class Limits:
    max_upload_mb: float = 200.0
    max_megapixels: float = 50.0
    max_frames: int = 3000


def check_upload(path: str | Path, limits: Limits) -> str:
    """Raise UploadError when `path` breaks a limit or is not a photo, animation or video;
    return its kind: 'photo', 'animation' or 'video'."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise UploadError(f"{name}: no such file")
    mb = path.stat().st_size / 2**20
    if mb > limits.max_upload_mb:
        raise UploadError(f"{name}: {mb:.1f} MB is over the upload limit of {limits.max_upload_mb:g} MB")
    kind = kind_of(path)
    if kind == "video":
        frames = _video_frames(path)
    else:
        frames = _image_frames(path, limits)
    if frames > limits.max_frames:
        raise UploadError(f"{name}: {frames} frames is over the limit of {limits.max_frames}")
    return kind


def kind_of(path: Path) -> str:
    try:
        if is_video(path):
            return "video"
        if is_animation(path):
            return "animation"
    except ImageError as err:
        raise UploadError(str(err)) from None
    return "photo"


def _image_frames(path: Path, limits: Limits) -> int:
    try:
        with Image.open(path) as img:
            w, h = img.size
            frames = getattr(img, "n_frames", 1)
    except Image.DecompressionBombError:
        raise UploadError(f"{path.name}: too many pixels to open") from None
    except Exception:
        raise UploadError(f"{path.name}: not a photo, GIF or video this page can read") from None
    if w * h > limits.max_megapixels * 1e6:
        raise UploadError(f"{path.name}: {w}x{h} is {w * h / 1e6:.1f} megapixels, over the limit of "
                          f"{limits.max_megapixels:g}")
    return frames


def _video_frames(path: Path) -> int:
    try:
        return frame_count(path)
    except ImageError as err:
        raise UploadError(str(err).replace(str(path), path.name)) from None


class Models:
    """The models a page offers: 'default' (the shipped one), an explicit model file, and the
    run folders found in `models_dir`; each network is loaded once and shared (read-only)."""

    def __init__(self, default: str = "default", models_dir: str | Path | None = None):
        self.choices: dict[str, str | Path] = {DEFAULT_NAME: DEFAULT_NAME}
        if not is_default(default):
            self.choices = {Path(default).stem if Path(default).is_file() else Path(default).name: Path(default)}
        for run in run_folders(models_dir) if models_dir else []:
            self.choices.setdefault(run.name, run)
        self._loaded: dict[str, object] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self.choices)

    def colorizer(self, name: str | None = None, *, size: int = DEFAULT_SIZE, strength: float = 1.0) -> Colorizer:
        """A Colorizer of its own (size, strength) around the shared network."""
        name = name or self.names[0]
        if name not in self.choices:
            raise UploadError(f"unknown model {name!r}; choose one of: {', '.join(self.names)}")
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = load_network(self.choices[name])
            net = self._loaded[name]
        return Colorizer(net, size=size, strength=strength, name=name)


class Workspace:
    """A folder for outputs; each job writes into a fresh subfolder, so names never collide."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.root, prefix="job-"))

    def target(self, source: Path, suffix: str | None = None) -> Path:
        return self.folder() / (Path(source).stem + SUFFIX + (suffix or Path(source).suffix.lower()))


def gray_preview(path: str | Path, workspace: Workspace) -> Path:
    """The photo as the model sees it (upright, grey), for the before side of the slider."""
    img = _open(Path(path))
    target = workspace.target(Path(path), ".png")
    save_atomic(img.convert("L"), target)
    return target


def film_shots(path: str | Path, workspace: Workspace) -> list[list]:
    """An animation's or video's shots as table rows: shot, first frame, time (s), frames."""
    try:
        shots, _ = list_shots(Path(path))
    except (ImageError, ValueError, OSError) as err:
        raise UploadError(str(err).replace(str(path), Path(path).name).splitlines()[0]) from None
    return [[s.number, s.first, round(s.seconds, 3), s.frames] for s in shots]


def frame_preview(path: str | Path, index: int, workspace: Workspace) -> Path:
    """Frame `index` of an animation or video in grey, for the page to place points on."""
    path = Path(path)
    if is_animation(path):
        frames = iter(read_animation(path).frames)
    else:
        try:
            frames, _ = read_video_frames(path)
        except ImageError as err:
            raise UploadError(str(err).replace(str(path), path.name)) from None
    try:
        frame = next((f for i, f in enumerate(frames) if i == index), None)
    finally:
        if hasattr(frames, "close"):
            frames.close()                            # the video's container and its decoder threads
    if frame is None:
        raise UploadError(f"{path.name}: has no frame {index}")
    target = workspace.folder() / f"frame-{index}.png"
    save_atomic(Image.fromarray(frame).convert("L"), target)
    return target


def frame_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an animation's or video's frames."""
    path = Path(path)
    if is_animation(path):
        with Image.open(path) as img:
            return img.size
    with pyav().open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        return ctx.width, ctx.height


def colorize_photo(path: str | Path, colorizer: Colorizer, workspace: Workspace, *, hints=None,
                   reference=None) -> Path:
    """A photo -> its colorized copy at full resolution (PNG for lossless inputs, else JPEG)."""
    path = Path(path)
    img = _open(path)
    suffix = ".jpg" if path.suffix.lower() in (".jpg", ".jpeg") and "A" not in img.getbands() else ".png"
    target = workspace.target(path, suffix)
    try:
        colorizer.colorize_to_file(img, target, hints=hints or None, reference=reference)
    except ValueError as err:
        raise UploadError(f"{path.name}: {err}") from None
    return target


def confidence_map(path: str | Path, colorizer: Colorizer, workspace: Workspace) -> Path:
    """A photo -> the model's certainty per pixel as a grey PNG (white = sure; Colorizer.confidence)."""
    path = Path(path)
    target = workspace.target(path.with_name(f"{path.stem}_confidence.png"), ".png")
    save_atomic(colorizer.confidence(_open(path)), target)
    return target


def colorize_moving(path: str | Path, colorizer: Colorizer, workspace: Workspace, *, stabilize: bool = True,
                    hints=None, reference=None, playable: bool = False) -> Path:
    """An animation or video -> its colorized copy: an animation keeps its format, frame count and
    timing; a video keeps its container (playable=True: .mp4 unless it is already .mp4 or .webm)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if playable and is_video(path) and suffix not in PLAYABLE_VIDEO:
        suffix = ".mp4"
    options = MediaOptions(temporal="flow" if stabilize else "off", hints=list(hints or []), reference=reference)
    target = workspace.target(path, suffix)
    try:
        return colorize_media(path, target, model=colorizer, options=options, progress=True)
    except (ImageError, ValueError, RuntimeError, OSError) as err:
        message = str(err).replace(str(path), path.name)
        raise UploadError(message.splitlines()[0] if message else f"{path.name}: cannot colorize") from None


def colorize_any(path: str | Path, colorizer: Colorizer, workspace: Workspace, limits: Limits, **options) -> Path:
    """Photo, animation or video in -> the same kind out (see colorize_photo, colorize_moving)."""
    kind = check_upload(path, limits)
    if kind == "photo":
        options.pop("stabilize", None)
        options.pop("playable", None)
        return colorize_photo(path, colorizer, workspace, **options)
    return colorize_moving(path, colorizer, workspace, **options)


def zip_outputs(paths: list[Path], workspace: Workspace, name: str = "chromatize.zip") -> Path:
    target = workspace.folder() / name

    def write(tmp: str) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
            seen: set[str] = set()
            for p in paths:
                stem, suffix = printable(p.stem), printable(p.suffix)   # a zip stores names as UTF-8: bytes that
                arc, n = stem + suffix, 2                               # are not UTF-8 are written as \xNN
                while arc in seen:
                    arc, n = f"{stem}-{n}{suffix}", n + 1
                seen.add(arc)
                z.write(p, arc)
    atomic_write(target, write)
    return target


def _open(path: Path) -> Image.Image:
    try:
        img = open_image(path)
        check_pixels(path, img.size)
        return img
    except ImageError as err:
        raise UploadError(str(err).replace(str(path), path.name)) from None
