"""Video through PyAV: stream frames in, colorize them in batches, encode, copy the audio.

Three threads share the work so that decoding and encoding overlap with the model:
    reader   demuxes, decodes video frames to arrays, passes audio packets along in order
    main     batches frames through the FrameColorizer (model + stabilizer)
    writer   encodes the colour frames and muxes them with the untouched audio packets
The queues between them are short, so memory stays bounded whatever the video's length.
Timing is kept exactly: each output frame carries its input frame's pts in the input's time base.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm import tqdm

from .fileio import atomic_write
from .frames import FrameColorizer
from .images import ImageError

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"}
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi",
              ".gif": "gif"}
GRAY_FORMATS = {"gray", "gray8", "gray10le", "gray12le", "gray16le", "gray16be", "ya8", "ya16le", "monob", "monow"}
_END = object()


class VideoError(ImageError):
    """A video that cannot be read or written; the message names the file."""


@dataclass
class VideoReport:
    frames: int
    audio_packets: int
    seconds: float


def _av():
    try:
        import av
    except ImportError as err:                          # pragma: no cover - a declared dependency
        raise VideoError("video needs PyAV: pip install av") from err
    return av


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def encoder_for(target: Path) -> tuple[str, dict]:
    """Codec and options for a target: VP9 in WebM, H.264 elsewhere."""
    if target.suffix.lower() == ".webm":
        return "libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
    return "libx264", {"preset": "veryfast"}


def colorize_video(frames: FrameColorizer, source: Path, target: Path, *, start: float | None = None,
                   end: float | None = None, crf: int = 18, progress: bool = True) -> VideoReport:
    """Colorize source into target (written atomically; the container follows target's suffix).
    start/end in seconds select a slice; audio in that slice is copied packet for packet."""
    av = _av()
    if target.suffix.lower() not in CONTAINERS or target.suffix.lower() == ".gif":
        raise VideoError(f"{target}: cannot write video as {target.suffix or 'no suffix'} "
                         f"(use one of {', '.join(sorted(set(CONTAINERS) - {'.gif'}))})")
    try:
        container = av.open(str(source))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(f"{source}: not a readable video ({_reason(err)})") from err
    with container:
        if not container.streams.video:
            raise VideoError(f"{source}: no video stream")
        reader = _Reader(container, start, end)
        report: list[VideoReport] = []

        def write(tmp: str) -> None:
            report.append(_transcode(frames, reader, Path(tmp), target, crf=crf, progress=progress))

        try:
            atomic_write(target, write)
        except av.error.FFmpegError as err:
            raise VideoError(f"{source}: {_reason(err)}") from err
    return report[0]


def _transcode(frames: FrameColorizer, reader: "_Reader", tmp: Path, target: Path, *, crf: int,
               progress: bool) -> VideoReport:
    av = _av()
    started = time.perf_counter()
    video_in = reader.video
    out = av.open(str(tmp), "w", format=CONTAINERS[target.suffix.lower()])
    writer = None
    try:
        codec, options = encoder_for(target)
        writer = _Writer(out, video_in, reader, codec, {**options, "crf": str(crf)})
        bar = tqdm(total=reader.frame_estimate(), unit="frame", desc=f"colorizing {reader.name}",
                   disable=not progress, dynamic_ncols=True)
        reader.start()
        frames.reset()
        for rgb in frames.colorize(reader.frames(writer)):
            writer.put(("video", rgb))
            bar.update(1)
        bar.close()
        reader.check()
        writer.finish()
    finally:
        reader.stop()
        if writer:
            writer.stop()
        out.close()
    if writer.count == 0:
        raise VideoError(f"{reader.name}: no video frames{' in the selected slice' if reader.sliced else ''}")
    return VideoReport(writer.count, writer.audio_packets, time.perf_counter() - started)


class _Reader:
    """Demuxes in a thread: video frames (as arrays, pts kept) and audio packets, in file order."""

    def __init__(self, container, start: float | None, end: float | None):
        self.container, self.start_s, self.end_s = container, start, end
        self.video = container.streams.video[0]
        self.video.thread_type = "AUTO"
        self.audio = list(container.streams.audio)
        self.name = Path(container.name).name
        self.sliced = start is not None or end is not None
        self.gray = self.video.codec_context.pix_fmt in GRAY_FORMATS
        self.rotation = 0
        self.first_pts: int | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=32)
        self._error: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def frame_estimate(self) -> int | None:
        total = self.video.frames or None
        rate = self.video.average_rate or self.video.guessed_rate
        if total is None and self.video.duration and rate:
            total = int(self.video.duration * self.video.time_base * rate)
        if total and rate and self.sliced:
            first = int((self.start_s or 0) * rate)
            last = total if self.end_s is None else min(total, int(self.end_s * rate))
            total = max(0, last - first)
        return total

    def start(self) -> None:
        if self.start_s:
            self.container.seek(int(self.start_s / self.video.time_base), stream=self.video, backward=True)
        self._thread.start()

    def _run(self) -> None:
        av = _av()
        try:
            for packet in self.container.demux(self.video, *self.audio):
                if self._stopping:
                    return
                if packet.stream.type == "audio":
                    if packet.pts is not None and self._in_slice(float(packet.pts * packet.time_base)):
                        self._queue.put(("audio", packet))
                    continue
                for frame in packet.decode():
                    if frame.pts is None or not self._in_slice(float(frame.time)):
                        if self.end_s is not None and frame.time is not None and frame.time >= self.end_s:
                            return
                        continue
                    if self.first_pts is None:
                        self.first_pts, self.rotation = frame.pts, int(getattr(frame, "rotation", 0) or 0)
                    array = frame.to_ndarray(format="gray" if self.gray else "rgb24")
                    self._queue.put(("video", array, frame.pts))
        except (av.error.FFmpegError, ValueError) as err:
            self._error = VideoError(f"{self.name}: cannot decode ({_reason(err)})")
        finally:
            self._queue.put(_END)

    def _in_slice(self, seconds: float) -> bool:
        return (self.start_s is None or seconds >= self.start_s - 1e-6) and (self.end_s is None or seconds < self.end_s)

    def frames(self, writer: "_Writer") -> Iterator[np.ndarray]:
        """Video frames in order; audio packets and each frame's pts go straight to the writer."""
        while (item := self._queue.get()) is not _END:
            if item[0] == "audio":
                writer.put(item)
            else:
                writer.pts.put(item[2])
                yield item[1]

    def check(self) -> None:
        self._thread.join()
        if self._error:
            raise self._error

    def stop(self) -> None:
        """Let the thread end early (after an error elsewhere) and wait for it."""
        if not self._thread.is_alive():
            return
        self._stopping = True
        while self._queue.get() is not _END:
            pass
        self._thread.join()


class _Writer:
    """Encodes and muxes in a thread; owns the output container."""

    def __init__(self, out, video_in, reader: _Reader, codec: str, options: dict):
        self.out, self.reader = out, reader
        self.stream = out.add_stream(codec, options=options)
        ctx = video_in.codec_context
        self.stream.width, self.stream.height = ctx.width, ctx.height
        self.stream.pix_fmt = "yuv420p" if ctx.width % 2 == 0 and ctx.height % 2 == 0 else "yuv444p"
        self.stream.time_base = self.stream.codec_context.time_base = video_in.time_base
        rate = video_in.average_rate or video_in.guessed_rate
        if rate:
            self.stream.codec_context.framerate = Fraction(rate)
        self.stream.thread_count = 1                 # the model has the cores
        self.audio = {}
        for stream in reader.audio:
            if stream.codec_context.name not in out.supported_codecs:
                raise VideoError(f"{reader.name}: its {stream.codec_context.name} audio cannot be stored in "
                                 f"{out.format.name}; choose another output format (mkv holds any)")
            self.audio[stream.index] = out.add_stream_from_template(stream)
        self.count = self.audio_packets = 0
        self.pts: queue.Queue = queue.Queue()
        self._queue: queue.Queue = queue.Queue(maxsize=16)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def put(self, item) -> None:
        if self._error:
            raise self._error
        self._queue.put(item)

    def finish(self) -> None:
        self._queue.put(_END)
        self._thread.join()
        if self._error:
            raise self._error

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()

    def _run(self) -> None:
        av = _av()
        held: list | None = []                           # audio before the first frame (header not written yet)
        try:
            while (item := self._queue.get()) is not _END:
                if item[0] == "audio":
                    if held is None:
                        self._mux_audio(item[1])
                    else:
                        held.append(item[1])
                    continue
                if held is not None:
                    if self.reader.rotation:                 # must precede the header
                        self.stream.set_display_rotation(self.reader.rotation)
                    for packet in held:
                        self._mux_audio(packet)
                    held = None
                frame = av.VideoFrame.from_ndarray(item[1], format="rgb24")
                frame.pts = self.pts.get() - (self.reader.first_pts or 0)
                frame.time_base = self.stream.time_base
                self.out.mux(self.stream.encode(frame))
                self.count += 1
            self.out.mux(self.stream.encode(None))
        except BaseException as err:                     # surfaced in the main thread by put/finish
            self._error = err
            while self._queue.get() is not _END:         # unblock the producer
                pass

    def _mux_audio(self, packet) -> None:
        """Copy the packet untouched but for its stream and, for a slice, its timestamps."""
        offset = int(self.reader.start_s / packet.time_base) if self.reader.start_s else 0
        if offset:
            packet.pts = packet.pts - offset if packet.pts is not None else None
            packet.dts = packet.dts - offset if packet.dts is not None else None
        packet.stream = self.audio[packet.stream.index]
        self.out.mux(packet)
        self.audio_packets += 1


def read_video_frames(path: Path) -> tuple[Iterator[np.ndarray], int | None]:
    """Every frame of a video as (H, W, 3) RGB uint8, decoded lazily, and the frame count if known."""
    av = _av()
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(f"{path}: not a readable video ({_reason(err)})") from err
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"

    def frames() -> Iterator[np.ndarray]:
        with container:
            try:
                for frame in container.decode(stream):
                    yield frame.to_ndarray(format="rgb24")
            except av.error.FFmpegError as err:
                raise VideoError(f"{path}: cannot decode ({_reason(err)})") from err

    return frames(), stream.frames or None


def write_frames_video(frames: list[np.ndarray], durations_ms: list[int], target: Path, *, crf: int = 18) -> None:
    """Encode RGB frames shown for the given milliseconds each (an animation) as a video file."""
    av = _av()
    h, w = frames[0].shape[:2]

    def write(tmp: str) -> None:
        with av.open(tmp, "w", format=CONTAINERS[target.suffix.lower()]) as out:
            codec, options = encoder_for(target)
            stream = out.add_stream(codec, options={**options, "crf": str(crf)})
            stream.width, stream.height = w, h
            stream.pix_fmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
            pts = 0
            for rgb, duration in zip(frames, durations_ms):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts, frame.time_base = pts, stream.time_base
                out.mux(stream.encode(frame))
                pts += max(1, duration)
            out.mux(stream.encode(None))

    atomic_write(target, write)


def _reason(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err)
    return text.splitlines()[0] if text else type(err).__name__
