"""Video through PyAV: stream frames in, colorize them in batches, encode, copy the audio.

Three threads share the work so that decoding and encoding overlap with the model:
    reader   demuxes, decodes video frames to arrays, passes audio packets along in order
    main     batches frames through the FrameColorizer (model + stabilizer)
    writer   encodes the colour frames and muxes them with the untouched audio packets
The queues between them are short, so memory stays bounded whatever the video's length.
Timing is kept exactly: each output frame carries its input frame's pts in the input's time base.
"""
from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm import tqdm

from ..fileio import atomic_write
from ..images import ImageError
from .frames import FrameColorizer

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"}
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi",
              ".gif": "gif"}
GRAY_FORMATS = {"gray", "gray8", "gray10le", "gray12le", "gray16le", "gray16be", "ya8", "ya16le", "monob", "monow"}
_END = object()


class VideoError(ImageError):
    """A video that cannot be read or written; the message names the file."""


class DamagedVideo(VideoError):
    """The output was written, but the input stopped decoding early: only part was colorized."""


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
    """Codec and options for a target: VP9 in WebM, H.264 elsewhere. H.264 without B-frames:
    with irregular frame times (variable rate, dropped frames, GIF durations) x264's B-frame
    decode times can overtake the presentation times, which MP4 and Matroska refuse."""
    if target.suffix.lower() == ".webm":
        return "libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
    return "libx264", {"preset": "veryfast", "bf": "0"}


class _Encoder:
    """One output video stream whose timestamps we set ourselves.

    H.264 runs without B-frames (see encoder_for) and VP9 shows none to the container, so the
    i-th packet out of the encoder is the i-th frame in: each packet gets that frame's time as
    pts and dts. (The encoder's own packet times were seen to go wrong after about a dozen
    frames, e.g. 2200 ms followed by 150 ms, which MP4 and Matroska refuse.) Times are kept
    strictly increasing, in 1/90000 s, or 1/fps for AVI (a constant-rate container).
    """

    def __init__(self, out, target: Path, *, width: int, height: int, crf: int, rate: Fraction | None):
        codec, options = encoder_for(target)
        self.out = out
        self.stream = out.add_stream(codec, options={**options, "crf": str(crf)})
        self.stream.width, self.stream.height = width, height
        self.stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        avi = target.suffix.lower() == ".avi"
        self.time_base = Fraction(1, max(1, round(rate or 25))) if avi else Fraction(1, 90000)
        self.stream.time_base = self.stream.codec_context.time_base = self.time_base
        if rate:
            self.stream.codec_context.framerate = Fraction(rate)
        self.stream.thread_count = 1                 # the model has the cores
        self._times: deque[int] = deque()
        self._last: int | None = None
        self.count = 0

    def encode(self, rgb: np.ndarray, seconds: Fraction) -> None:
        """Encode one (H, W, 3) RGB frame shown from `seconds` after the start."""
        pts = round(seconds / self.time_base)
        if self._last is not None and pts <= self._last:
            pts = self._last + 1
        self._last = pts
        frame = _av().VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts, frame.time_base = pts, self.time_base
        self._times.append(pts)
        self._mux(self.stream.encode(frame))
        self.count += 1

    def flush(self) -> None:
        self._mux(self.stream.encode(None))

    def _mux(self, packets) -> None:
        for packet in packets:
            packet.pts = packet.dts = self._times.popleft()
            packet.time_base = self.time_base
            self.out.mux(packet)


def colorize_video(frames: FrameColorizer, source: Path, target: Path, *, start: float | None = None,
                   end: float | None = None, crf: int = 18, progress: bool = True) -> VideoReport:
    """Colorize source into target (written atomically; the container follows target's suffix).
    start/end in seconds select a slice; audio in that slice is copied packet for packet."""
    av = _av()
    if target.suffix.lower() not in CONTAINERS or target.suffix.lower() == ".gif":
        raise VideoError(f"{target}: cannot write video as {target.suffix or 'no suffix'} "
                         f"(use one of {', '.join(sorted(set(CONTAINERS) - {'.gif'}))})")
    if not source.is_file():
        raise VideoError(f"{source}: not a regular file (missing, a pipe, a device or a broken link)")
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
    if reader.damage:
        raise DamagedVideo(f"{source}: damaged: colorized {report[0].frames} frames into {target}, then "
                           f"{reader.damage}")
    return report[0]


def _transcode(frames: FrameColorizer, reader: "_Reader", tmp: Path, target: Path, *, crf: int,
               progress: bool) -> VideoReport:
    av = _av()
    started = time.perf_counter()
    video_in = reader.video
    out = av.open(str(tmp), "w", format=CONTAINERS[target.suffix.lower()])
    writer = None
    try:
        writer = _Writer(out, video_in, reader, target, crf)
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
        reader.check_complete(writer.count)
    finally:
        reader.stop()
        if writer:
            writer.stop()
        out.close()
    if writer.count == 0:
        raise VideoError(f"{reader.name}: no video frames{' in the selected slice' if reader.sliced else ''}")
    return VideoReport(writer.count, writer.audio_packets, time.perf_counter() - started)


class FrameTimes:
    """Presentation times for decoded frames, from whatever timestamps a real file carries.

    Frames leave the decoder in display order, but their pts may not: AVI with packed B-frames
    (DivX/XviD) gives decode-order stamps (1, 2, 3, 5, 4, 6, ...), some frames have none, some
    repeat one. push(frame, pts) holds `window` frames back and gives the oldest one the smallest
    pending stamp, so stamps swapped within the window come out sorted; a missing stamp is the
    previous one plus one frame period, and a stamp not after the previous one becomes the previous
    one plus a period. Yields (frame, seconds since the first frame), every frame kept.
    """

    def __init__(self, time_base: Fraction, rate: Fraction | None, *, window: int = 4):
        self.time_base, self.window = Fraction(time_base), window
        self.step = max(1, round(1 / (Fraction(rate) * self.time_base))) if rate else 1   # a period in pts
        self._frames: deque = deque()
        self._stamps: list[int] = []
        self._first: int | None = None
        self._last: int | None = None
        self._newest: int | None = None            # the largest stamp seen, for frames without one

    @property
    def started(self) -> bool:
        return self._newest is not None

    def push(self, frame, pts: int | None):
        if pts is None:
            pts = self._newest + self.step if self._newest is not None else 0
        self._newest = pts if self._newest is None else max(self._newest, pts)
        self._frames.append(frame)
        heapq.heappush(self._stamps, pts)
        if len(self._frames) > self.window:
            yield self._pop()

    def drain(self):
        while self._frames:
            yield self._pop()

    def _pop(self):
        pts = heapq.heappop(self._stamps)
        if self._last is not None and pts <= self._last:
            pts = self._last + self.step
        self._last = pts
        self._first = pts if self._first is None else self._first
        return self._frames.popleft(), (pts - self._first) * self.time_base


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
        self._times = FrameTimes(self.video.time_base, self.video.average_rate or self.video.guessed_rate)
        self.last_time = 0.0                    # seconds of the last decoded frame
        self.damage: str | None = None          # why decoding stopped early, when it did
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
            self._seek_before(self.start_s)
        self._thread.start()

    def _seek_before(self, seconds: float) -> None:
        """Seek to a keyframe at or before `seconds`. Some files index keyframes by decode time,
        which lands after the presentation time asked for; then step back until it does not."""
        target = seconds
        while True:
            self.container.seek(int(target / self.video.time_base), stream=self.video, backward=True)
            first = next(self.container.decode(self.video), None)
            if first is None or first.time is None or first.time <= seconds + 1e-6 or target <= 0:
                break
            target = max(0.0, target - max(1.0, 2 * (first.time - seconds)))
        self.container.seek(int(target / self.video.time_base), stream=self.video, backward=True)

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
                    if frame.pts is not None and not self._in_slice(float(frame.time)):
                        if self.end_s is not None and frame.time >= self.end_s:
                            return
                        continue
                    if not self._times.started:
                        self.rotation = int(getattr(frame, "rotation", 0) or 0)
                    if frame.time is not None:
                        self.last_time = float(frame.time)
                    array = frame.to_ndarray(format="gray" if self.gray else "rgb24")
                    for item in self._times.push(array, frame.pts):
                        self._queue.put(("video", *item))
        except (av.error.FFmpegError, ValueError) as err:
            if self._times.started:                      # keep what decoded; say where it stopped
                self.damage = f"decoding stopped after {self.last_time:.2f} s ({_reason(err)})"
            else:
                self._error = VideoError(f"{self.name}: cannot decode ({_reason(err)})")
        finally:
            for item in self._times.drain():
                self._queue.put(("video", *item))
            self._queue.put(_END)

    def _in_slice(self, seconds: float) -> bool:
        return (self.start_s is None or seconds >= self.start_s - 1e-6) and (self.end_s is None or seconds < self.end_s)

    def frames(self, writer: "_Writer") -> Iterator[np.ndarray]:
        """Video frames in order; audio packets and each frame's pts go straight to the writer."""
        while (item := self._queue.get()) is not _END:
            if item[0] == "audio":
                writer.put(item)
            else:
                writer.times.put(item[2])
                yield item[1]

    def check(self) -> None:
        self._thread.join()
        if self._error:
            raise self._error

    def check_complete(self, frames: int) -> None:
        """Note damage when the frames stop well before the length the file declares (a cut-off
        file can decode without an error)."""
        declared = self.declared_end()
        if self.damage or declared is None or frames == 0:
            return
        rate = self.video.average_rate or self.video.guessed_rate
        tolerance = max(1.0, 3 / float(rate)) if rate else 1.0
        if self.last_time < declared - tolerance:
            self.damage = f"the stream ends at {self.last_time:.2f} s of the {declared:.2f} s it declares"

    def declared_end(self) -> float | None:
        """Where the stream (or the selected slice) should end, in seconds, if the file says."""
        end = None
        if self.video.duration is not None:
            end = float((self.video.duration + (self.video.start_time or 0)) * self.video.time_base)
        elif self.container.duration:
            end = self.container.duration / 1_000_000
        if end is not None and self.end_s is not None:
            end = min(end, self.end_s)
        return end

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

    def __init__(self, out, video_in, reader: _Reader, target: Path, crf: int):
        self.out, self.reader = out, reader
        ctx = video_in.codec_context
        self.encoder = _Encoder(out, target, width=ctx.width, height=ctx.height, crf=crf,
                                rate=video_in.average_rate or video_in.guessed_rate)
        self.stream = self.encoder.stream
        self.audio = {}
        for stream in reader.audio:
            if stream.codec_context.name not in out.supported_codecs:
                raise VideoError(f"{reader.name}: its {stream.codec_context.name} audio cannot be stored in "
                                 f"{out.format.name}; choose another output format (mkv holds any)")
            self.audio[stream.index] = out.add_stream_from_template(stream)
        self.audio_packets = 0
        self.times: queue.Queue = queue.Queue()       # each frame's seconds from the start
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

    @property
    def count(self) -> int:
        return self.encoder.count

    def _run(self) -> None:
        held: list | None = []                           # audio before the first frame (header not written yet)
        ended = False
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
                self.encoder.encode(item[1], self.times.get())
            ended = True
            self.encoder.flush()
        except BaseException as err:                     # surfaced in the main thread by put/finish
            self._error = err
            while not ended and self._queue.get() is not _END:   # unblock the producer
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


def frame_count(path: Path) -> int:
    """The number of frames a video declares (or its duration times its rate), from the header."""
    av = _av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: has no video stream")
            stream = container.streams.video[0]
            if stream.frames:
                return int(stream.frames)
            rate = stream.average_rate or stream.guessed_rate or 25
            seconds = float(stream.duration * stream.time_base) if stream.duration else \
                float(container.duration or 0) / 1e6
            return int(seconds * rate)
    except VideoError:
        raise
    except Exception as err:                      # PyAV raises its own error types
        raise VideoError(f"{path}: not a video that can be read ({_reason(err)})") from None


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

    rate = Fraction(1000, max(1, round(sum(durations_ms) / len(durations_ms))))

    def write(tmp: str) -> None:
        with av.open(tmp, "w", format=CONTAINERS[target.suffix.lower()]) as out:
            encoder = _Encoder(out, target, width=w, height=h, crf=crf, rate=rate)
            start = 0
            for rgb, duration in zip(frames, durations_ms):
                encoder.encode(rgb, Fraction(start, 1000))
                start += max(1, duration)
            encoder.flush()

    atomic_write(target, write)


def _reason(err: BaseException) -> str:
    """FFmpeg's one-line reason, with the last line it logged when there is one."""
    text = getattr(err, "strerror", None) or str(err)
    text = text.splitlines()[0] if text else type(err).__name__
    log_lines = getattr(err, "log", None)
    if log_lines and isinstance(log_lines, tuple) and log_lines[-1]:
        text += f" ({str(log_lines[-1][-1]).strip()})"
    return text
