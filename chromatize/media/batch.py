"""Colorizing many files: where each output goes, and a run that reports bad files and goes on.

Still images share model batches; animations and videos go one at a time through the frame
pipeline (frames.py) with the temporal stabilizer.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from tqdm import tqdm

from ..fileio import name_bytes, printable
from ..images import IMAGE_EXTENSIONS, ImageError, find_images, open_image, output_format, save_atomic, save_colorized
from ..inference import Colorizer, load
from .animation import colorize_animation, is_animation
from .frames import FrameColorizer
from .video import colorize_video
from .video_read import VIDEO_SUFFIXES, is_video

log = logging.getLogger(__name__)
SUFFIX = "_color"
CONFIDENCE_SUFFIX = "_confidence"
NAME_MAX = 255              # bytes in a file name on common file systems
CHUNK_PIXELS = 16_000_000  # still images batched together hold at most about this many pixels


@dataclass
class Job:
    source: Path
    target: Path


@dataclass
class MediaOptions:
    """How animations and videos are done (see frames.py, stabilize.py, video.py)."""

    temporal: str = "flow"              # off | flow
    start: float | None = None          # seconds: first frame of a video slice
    end: float | None = None            # seconds: end of a video slice (exclusive)
    crf: int = 18                       # H.264/VP9 quality: lower = better, bigger
    dither: bool = True                 # Floyd-Steinberg dithering in GIF output
    hints: list = field(default_factory=list)   # point hints (points.Point), on the first frame or a keyframe
    reference: str | Path | torch.Tensor | None = None   # a reference photo (or its palette) for every frame
    references: list = field(default_factory=list)   # points.ShotReference: a photo for a shot or time range
    confidence: bool = False            # photos: also write NAME_confidence.png (Colorizer.confidence)
    restart: bool = False               # video: ignore what a killed run finished (video_parts.py)


@dataclass
class BatchReport:
    done: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def real(path: Path) -> Path:
    """The path with links resolved; as it is where they loop (a looping link still gets its job,
    and with it its one-line error)."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):
        return Path(path).absolute()


def plan_jobs(inputs: list[str | Path], out_dir: str | Path | None = None, *,
              fmt: str | None = None) -> tuple[list[Job], list[tuple[Path, str]]]:
    """Map input files and folders (recursive) to output paths.

    Without out_dir, or when out_dir is the input's own folder, outputs get the `_color` suffix
    beside the input. Folder structure is kept under out_dir. An output never replaces an input.
    One input file and an out_dir that names a file of a known format (and is no folder) give that
    file, as ffmpeg and ImageMagick do (file_target).
    Returns the jobs and the inputs that could not be planned, each with its one-line problem.
    """
    target = file_target(inputs, out_dir, fmt=fmt)
    if target is not None:
        return [Job(Path(inputs[0]), target)], []
    jobs, problems = [], []
    for raw in inputs:
        root = Path(raw)
        try:
            files = find_images(root, IMAGE_EXTENSIONS | VIDEO_SUFFIXES)
        except ImageError as err:
            problems.append((root, str(err)))
            continue
        in_place = root.is_dir() and (out_dir is None or real(Path(out_dir)) == real(root))
        for path in files:
            if in_place and path.stem.endswith(SUFFIX):
                continue                                        # an earlier run's output
            relative = path.relative_to(root) if root.is_dir() else Path(path.name)
            jobs.append(Job(path, _target(path, relative, out_dir, fmt)))
    sources = {real(job.source) for job in jobs}
    for job in jobs:
        if real(job.target) in sources:
            job.target = job.target.with_name(job.target.stem + SUFFIX + job.target.suffix)
        job.target = fit_name(job.target)
    _separate_collisions(jobs, sources)
    return jobs, problems


def file_target(inputs: list[str | Path], out: str | Path | None, *, fmt: str | None = None) -> Path | None:
    """The output file that `-o` names, or None when it names a folder: one that exists, ends in
    a slash, or has no known image, animation or video suffix. A file named for several inputs or
    a folder, for its own input, or against --format is an error that says so."""
    if out is None or str(out).endswith(("/", "\\")) or Path(out).is_dir():
        return None
    out = Path(out)
    if out.suffix.lower() not in IMAGE_EXTENSIONS | VIDEO_SUFFIXES:
        return None
    if len(inputs) != 1 or not Path(inputs[0]).is_file():
        what = f"{len(inputs)} inputs" if len(inputs) != 1 else f"the folder {printable(inputs[0])}"
        raise ValueError(f"-o {printable(out)} names a file, but there are {what}: give a folder "
                         f"(e.g. -o {printable(out.with_suffix(''))}/)")
    if fmt and f".{fmt.lower().lstrip('.')}" != out.suffix.lower():
        raise ValueError(f"-o {printable(out)} and --format {fmt} disagree on the output format")
    if real(out) == real(Path(inputs[0])):
        raise ValueError(f"-o {printable(out)} would replace its input")
    return out


def fit_name(path: Path, limit: int = NAME_MAX) -> Path:
    """Shorten the stem so that the file name fits the file system's limit (in bytes, as stored)."""
    name = path.name
    if name_bytes(name) <= limit:
        return path
    stem, suffix = path.stem, path.suffix
    while name_bytes(stem + suffix) > limit:
        stem = stem[:-1]
    return path.with_name(stem + suffix)


def _separate_collisions(jobs: list[Job], sources: set[Path]) -> None:
    """Two inputs with one output (a.jpg and a.png with --format png; d1/x.png and d2/x.png into
    one folder): the later ones get -2, -3, ... and a note says so."""
    taken: dict[Path, Path] = {}
    for job in jobs:
        target, n = job.target, 1
        while real(target) in taken or real(target) in sources:
            n += 1
            target = fit_name(job.target.with_name(f"{job.target.stem}-{n}{job.target.suffix}"))
        if target != job.target:
            log.warning("%s and %s would both write %s; %s goes to %s", taken.get(real(job.target), "an input"),
                        job.source,
                        job.target, job.source, target)
            job.target = target
        taken[real(target)] = job.source


def _target(path: Path, relative: Path, out_dir, fmt: str | None) -> Path:
    suffix = f".{fmt.lower().lstrip('.')}" if fmt else path.suffix
    if out_dir is None or real(Path(out_dir)) == real(path.parent):
        return path.with_name(path.stem + SUFFIX + suffix)
    return (Path(out_dir) / relative).with_suffix(suffix)


def run_jobs(colorizer: Colorizer, jobs: list[Job], *, progress: bool = True,
             media: MediaOptions | None = None, skip_existing: bool = False) -> BatchReport:
    """Colorize every job, still images `colorizer.batch_size` at a time (fewer when they add up to
    CHUNK_PIXELS: a huge scan goes alone), then animations and
    videos one by one; a bad file is reported and skipped. With skip_existing, jobs whose output
    exists are left alone (a re-run after an interruption)."""
    report = BatchReport()
    media = media or MediaOptions()
    if media.reference is not None and not isinstance(media.reference, torch.Tensor):
        media = replace(media, reference=colorizer.reference_hint(media.reference))    # read it once
    if skip_existing:
        report.skipped = [job.target for job in jobs if job.target.exists()]
        jobs = [job for job in jobs if not job.target.exists()]
    stills, moving = [], []
    for job in jobs:
        (moving if is_video(job.source) or is_animation(job.source) else stills).append(job)
    if media.confidence and moving:
        log.warning("--confidence: certainty maps are written for photos only; %d animation(s)/video(s) get none",
                    len(moving))
    taken = {real(p) for job in jobs for p in (job.source, job.target)}     # a certainty map replaces none
    bar = tqdm(total=len(jobs), unit="file", desc="colorizing", disable=not progress, dynamic_ncols=True)
    loaded: list = []
    for job in stills:
        try:
            output_format(job.target)
            loaded.append((job, open_image(job.source)))
        except ImageError as err:
            _fail(report, job, str(err))
            bar.update(1)
        if loaded and (len(loaded) == colorizer.batch_size or sum(_pixels(img) for _, img in loaded) >= CHUNK_PIXELS):
            _finish_chunk(colorizer, loaded, report, media, taken)
            bar.update(len(loaded))
            loaded = []
    if loaded:
        _finish_chunk(colorizer, loaded, report, media, taken)
        bar.update(len(loaded))
    for job in moving:
        _run_moving(colorizer, job, media, report, progress)
        bar.update(1)
    bar.close()
    return report


def _run_moving(colorizer: Colorizer, job: Job, media: MediaOptions, report: BatchReport, progress: bool) -> None:
    try:
        colorize_media(job.source, job.target, model=colorizer, options=media, progress=progress)
        report.done.append(job.target)
    except ImageError as err:
        _fail(report, job, str(err))
    except (OSError, ValueError, RuntimeError) as err:
        _fail(report, job, f"{job.source}: cannot colorize ({err})")


def _pixels(img) -> int:
    return img.width * img.height


def _finish_chunk(colorizer: Colorizer, loaded: list, report: BatchReport, media: MediaOptions,
                  taken: set[Path]) -> None:
    """Colorize (job, image) pairs together and write each output (strip by strip: save_colorized),
    and with media.confidence its certainty map, unless that name is an input's or an output's."""
    for (job, img), prediction in zip(loaded, _predict_chunk(colorizer, loaded, report, media)):
        if prediction is None:
            continue
        try:
            save_colorized(*prediction, job.target, policy=colorizer.metadata, software=colorizer.software)
            sure = confidence_path(job.target)
            if media.confidence and real(sure) in taken:
                log.warning("%s: no certainty map, %s is another file's input or output", printable(job.source),
                            printable(sure))
            elif media.confidence:
                save_atomic(colorizer.confidence(img, hints=media.hints, reference=media.reference), sure)
            report.done.append(job.target)
        except (OSError, ValueError) as err:
            _fail(report, job, f"{job.target}: cannot write ({err})")


def confidence_path(target: Path) -> Path:
    """Where --confidence writes the certainty map of an output: NAME_confidence.png beside it."""
    return target.with_name(f"{target.stem}{CONFIDENCE_SUFFIX}.png")


def _predict_chunk(colorizer: Colorizer, loaded: list, report: BatchReport, media: MediaOptions) -> list:
    """(light, ab) predictions aligned with `loaded` ((job, image) pairs); None where an image failed."""
    try:
        return colorizer.predict([img for _, img in loaded], hints=[media.hints] * len(loaded),
                                 reference=media.reference)
    except (ValueError, RuntimeError):
        results = []                                  # find the one image that fails, keep the others
        for (job, img) in loaded:
            try:
                results.append(colorizer.predict([img], hints=[media.hints], reference=media.reference)[0])
            except (ValueError, RuntimeError) as err:
                _fail(report, job, f"{job.source}: cannot colorize ({err})")
                results.append(None)
        return results


def _fail(report: BatchReport, job: Job, message: str) -> None:
    report.failed.append((job.source, message))
    tqdm.write(f"chromatize: error: {printable(message)}", file=sys.stderr)


def colorize_media(source: str | Path, target: str | Path | None = None, *, model: str | Path | Colorizer = "default",
                   options: MediaOptions | None = None, progress: bool = True) -> Path:
    """Colorize one animation (GIF, WebP, PNG) or video file; returns the output path (default:
    beside the source with the `_color` suffix). Raises ImageError with a one-line message."""
    source = Path(source)
    target = Path(target) if target else source.with_name(source.stem + SUFFIX + source.suffix)
    if real(target) == real(source):
        raise ImageError(f"{target}: the output would replace the input")
    colorizer = model if isinstance(model, Colorizer) else load(model)
    options = options or MediaOptions()
    frames = FrameColorizer(colorizer.for_frames(), temporal=options.temporal, hints=options.hints,
                            reference=options.reference, references=options.references)
    if is_video(source):
        colorize_video(frames, source, target, start=options.start, end=options.end, crf=options.crf,
                       progress=progress, restart=options.restart)
    elif is_animation(source):
        colorize_animation(frames, source, target, dither=options.dither, crf=options.crf)
    else:
        raise ImageError(f"{source}: not a video or an animated GIF/WebP/PNG")
    return target
