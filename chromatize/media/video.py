"""Video through PyAV: stream frames in, colorize them in batches, encode in segments, join with
the audio.

    plan      (only with keyframe points or references per shot) one pass over the frames at the
              model's size: shots, and each frame's points and reference (keyframes.py)
    reader    decodes video frames to arrays in a thread, times made sound      (video_read.py)
    main      batches frames through the FrameColorizer (model + stabilizer)    (this file)
    writer    encodes the colour frames in a thread, segment by segment into the
              work folder beside the output                                     (video_write.py, video_parts.py)
    join      the segments' packets and the input's untouched audio packets, interleaved by time
              into the output (stream copy), written atomically                 (video_write.join)
The queues between threads are short, so memory stays bounded whatever the video's length.
Timing is kept exactly: each output frame carries its input frame's time from the first frame.
A run killed part-way goes on from its last finished segment when run again (video_parts.py).
"""
from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..fileio import atomic_write
from .frames import FrameColorizer
from .keyframes import FramePlan
from .video_parts import SEGMENT_FRAMES, Parts, file_signature
from .video_read import DamagedVideo, VideoError, VideoReader, ffmpeg_reason, pyav
from .video_write import CONTAINERS, SegmentWriter, check_audio, join


@dataclass
class VideoReport:
    frames: int                 # frames in the output
    audio_packets: int
    seconds: float
    resumed_from: int = 0       # frames an earlier, killed run had finished


def colorize_video(frames: FrameColorizer, source: Path, target: Path, *, start: float | None = None,
                   end: float | None = None, crf: int = 18, progress: bool = True,
                   restart: bool = False) -> VideoReport:
    """Colorize source into target (written atomically; the container follows target's suffix).
    start/end in seconds select a slice; audio in that slice is copied packet for packet. A run
    killed before goes on where it stopped, unless restart."""
    if target.suffix.lower() not in CONTAINERS or target.suffix.lower() == ".gif":
        raise VideoError(f"{target}: cannot write video as {target.suffix or 'no suffix'} "
                         f"(use one of {', '.join(sorted(set(CONTAINERS) - {'.gif'}))})")
    if not source.is_file():
        raise VideoError(f"{source}: not a regular file (missing, a pipe, a device or a broken link)")
    started = time.perf_counter()
    signature = {**file_signature(source), **_job_signature(frames, target, start, end, crf)}
    with _open(source) as container, Parts(target, signature, restart=restart) as parts:
        resumed = parts.frames_done
        try:
            damage, audio = _run(frames, container, parts, source, target, start, end, crf=crf, progress=progress)
        except BaseException:
            if not parts.segments:                     # nothing worth keeping for a re-run
                parts.remove()
            raise
        total = parts.frames_done
    parts.remove()
    if damage:
        raise DamagedVideo(f"{source}: damaged: colorized {total} frames into {target}, then {damage}")
    return VideoReport(total, audio, time.perf_counter() - started, resumed)


def _run(frames: FrameColorizer, container, parts: Parts, source: Path, target: Path, start, end, *, crf: int,
         progress: bool) -> tuple[str | None, int]:
    """Plan, colorize what is not done yet, join: the reader's damage note and the audio packets."""
    try:
        check_audio(container, target, source.name)
        if frames.needs_plan:
            frames.plan = _plan(frames, parts, source, start, end)
        damage = None
        if not parts.finished:
            damage = _transcode(frames, container, parts, target, start, end, crf=crf, progress=progress)
        return damage, _join(parts, container, target, start, end, frames)
    except pyav().error.FFmpegError as err:
        raise VideoError(f"{source}: {ffmpeg_reason(err)}") from err


def _open(source: Path):
    av = pyav()
    try:
        container = av.open(str(source))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(f"{source}: not a readable video ({ffmpeg_reason(err)})") from err
    if not container.streams.video:
        container.close()
        raise VideoError(f"{source}: no video stream")
    return container


def _job_signature(frames: FrameColorizer, target: Path, start, end, crf) -> dict:
    """What makes two runs' frames the same: model, size, options, hints and references."""
    c = frames.colorizer
    reference = frames.reference
    if hasattr(reference, "numpy"):
        reference = hashlib.sha1(reference.float().numpy().tobytes()).hexdigest()
    return {"output": target.suffix.lower(), "start": start, "end": end, "crf": crf, "software": c.software,
            "model": f"{type(c.model).__name__} {_fingerprint(c.model)}", "size": c.size, "strength": c.strength,
            "batch": c.batch_size,
            "hints": repr(frames.hints), "references": repr(frames.references), "reference": str(reference),
            "temporal": frames.stabilizer.knobs if frames.stabilizer else "off"}


def _fingerprint(model) -> str:
    """A short hash of a network's first and last weights (another model under the same name)."""
    params = [p for p in model.parameters()] if hasattr(model, "parameters") else []
    if not params:
        return "-"
    data = b"".join(p.detach().flatten()[:1024].float().cpu().numpy().tobytes() for p in (params[0], params[-1]))
    return hashlib.sha1(data).hexdigest()[:12]


def _plan(frames: FrameColorizer, parts: Parts, source: Path, start, end) -> FramePlan:
    """The keyframe plan: made once in a pass over the frames, then kept in the parts folder."""
    if (text := parts.plan()) is not None:
        return FramePlan.from_json(text)
    with _open(source) as container:
        reader = VideoReader(container, start, end)
        reader.start()
        try:
            plan = frames.make_plan(((array, clock if clock is not None else seconds)
                                     for array, seconds, clock in reader.frames()), name=source.name)
        finally:
            reader.stop()
        reader.check()
    parts.save_plan(plan.to_json())
    return plan


def _transcode(frames: FrameColorizer, container, parts: Parts, target: Path, start, end, *, crf: int,
               progress: bool) -> str | None:
    """Colorize the frames not done yet into segments; returns the reader's damage note, if any."""
    resume = parts.resume_point()
    first = parts.frames_done
    reader = VideoReader(container, float(resume[0]) + 1e-5 if resume else start, end)
    writer = SegmentWriter(parts, reader.video, target, crf)
    try:
        remaining = reader.frame_estimate()
        bar = tqdm(total=first + remaining if remaining else None, initial=first, unit="frame",
                   desc=f"colorizing {reader.name}", disable=not progress, dynamic_ncols=True)
        reader.start()
        frames.reset()
        if frames.stabilizer:
            frames.stabilizer.restore(parts.state())
        times: deque = deque()
        offset = None
        index = first
        for rgb in frames.colorize(_timed(reader, times), first=first):
            seconds, clock = times.popleft()
            if resume and offset is None:            # the resumed frames' times go on from the last one done
                offset = resume[1] + (clock - resume[0]) - seconds if clock is not None else resume[1] - seconds
            seconds += offset or 0
            writer.put(rgb, seconds)
            index += 1
            if index % SEGMENT_FRAMES == 0:
                writer.end_segment(clock, seconds, frames.stabilizer.state() if frames.stabilizer else {})
            bar.update(1)
        if index % SEGMENT_FRAMES and index > first:
            writer.end_segment(clock, seconds, frames.stabilizer.state() if frames.stabilizer else {})
        bar.close()
        reader.check()
        writer.finish()
        reader.check_complete(index)
    finally:
        reader.stop()
        writer.stop()
    if index == 0:
        raise VideoError(f"{reader.name}: no video frames{' in the selected slice' if reader.sliced else ''}")
    parts.finish()
    return reader.damage


def _timed(reader: VideoReader, times: deque):
    """The reader's frames for the model; each frame's (seconds, clock) queued for the writer."""
    for array, seconds, clock in reader.frames():
        times.append((seconds, clock))
        yield array


def _join(parts: Parts, container, target: Path, start, end, frames: FrameColorizer) -> int:
    rotation = _rotation(container)
    colorizer = frames.colorizer
    written = []
    atomic_write(target, lambda tmp: written.append(
        join(parts, container, target, Path(tmp), start=start, end=end, rotation=rotation,
             policy=colorizer.metadata, software=colorizer.software)),
        tmp_folder=parts.folder)                      # killed while joining: the re-run clears it there
    return written[0]


def _rotation(container) -> int:
    """The display rotation of the video's first frame (phones store portrait video turned)."""
    container.seek(0)
    for frame in container.decode(container.streams.video[0]):
        return int(getattr(frame, "rotation", 0) or 0)
    return 0
