"""Video through PyAV: stream frames in, colorize them in batches, encode, copy the audio.

Three threads share the work so that decoding and encoding overlap with the model:
    reader   demuxes, decodes video frames to arrays, passes audio packets along in order (video_read.py)
    main     batches frames through the FrameColorizer (model + stabilizer)            (this file)
    writer   encodes the colour frames and muxes them with the untouched audio packets  (video_write.py)
The queues between them are short, so memory stays bounded whatever the video's length.
Timing is kept exactly: each output frame carries its input frame's pts in the input's time base.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..fileio import atomic_write
from .frames import FrameColorizer
from .video_read import DamagedVideo, VideoError, VideoReader, ffmpeg_reason, pyav
from .video_write import CONTAINERS, VideoWriter

@dataclass
class VideoReport:
    frames: int
    audio_packets: int
    seconds: float


def colorize_video(frames: FrameColorizer, source: Path, target: Path, *, start: float | None = None,
                   end: float | None = None, crf: int = 18, progress: bool = True) -> VideoReport:
    """Colorize source into target (written atomically; the container follows target's suffix).
    start/end in seconds select a slice; audio in that slice is copied packet for packet."""
    av = pyav()
    if target.suffix.lower() not in CONTAINERS or target.suffix.lower() == ".gif":
        raise VideoError(f"{target}: cannot write video as {target.suffix or 'no suffix'} "
                         f"(use one of {', '.join(sorted(set(CONTAINERS) - {'.gif'}))})")
    if not source.is_file():
        raise VideoError(f"{source}: not a regular file (missing, a pipe, a device or a broken link)")
    try:
        container = av.open(str(source))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(f"{source}: not a readable video ({ffmpeg_reason(err)})") from err
    with container:
        if not container.streams.video:
            raise VideoError(f"{source}: no video stream")
        reader = VideoReader(container, start, end)
        report: list[VideoReport] = []

        def write(tmp: str) -> None:
            report.append(_transcode(frames, reader, Path(tmp), target, crf=crf, progress=progress))

        try:
            atomic_write(target, write)
        except av.error.FFmpegError as err:
            raise VideoError(f"{source}: {ffmpeg_reason(err)}") from err
    if reader.damage:
        raise DamagedVideo(f"{source}: damaged: colorized {report[0].frames} frames into {target}, then "
                           f"{reader.damage}")
    return report[0]


def _transcode(frames: FrameColorizer, reader: "VideoReader", tmp: Path, target: Path, *, crf: int,
               progress: bool) -> VideoReport:
    av = pyav()
    started = time.perf_counter()
    video_in = reader.video
    out = av.open(str(tmp), "w", format=CONTAINERS[target.suffix.lower()])
    writer = None
    try:
        writer = VideoWriter(out, video_in, reader, target, crf, policy=frames.colorizer.metadata,
                             software=frames.colorizer.software)
        bar = tqdm(total=reader.frame_estimate(), unit="frame", desc=f"colorizing {reader.name}",
                   disable=not progress, dynamic_ncols=True)
        reader.start()
        frames.reset()
        for rgb in frames.colorize(_routed(reader, writer)):
            writer.put(("video", rgb))
            bar.update(1)
        bar.close()
        reader.check()
        writer.finish()
        reader.check_complete(writer.count)
    finally:
        reader.stop()
        if writer:
            writer.stop()
        out.close()
    if writer.count == 0:
        raise VideoError(f"{reader.name}: no video frames{' in the selected slice' if reader.sliced else ''}")
    return VideoReport(writer.count, writer.audio_packets, time.perf_counter() - started)


def _routed(reader: VideoReader, writer: VideoWriter):
    """The reader's video frames, in order, for the model; its audio packets and each frame's
    time go straight to the writer."""
    for item in reader.items():
        if item[0] == "audio":
            writer.put(item)
        else:
            writer.times.put(item[2])
            yield item[1]
