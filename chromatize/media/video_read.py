"""Reading video through PyAV: the frames (in a thread, with their presentation times made
sound), and the errors that name the file. The audio is copied when the colour frames are joined
(video_write.join); the pipeline is video.py's.
"""
from __future__ import annotations

import heapq
import queue
import threading
from collections import deque
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..images import ImageError


VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"}
GRAY_FORMATS = {"gray", "gray8", "gray10le", "gray12le", "gray16le", "gray16be", "ya8", "ya16le", "monob", "monow"}
END = object()


class VideoError(ImageError):
    """A video that cannot be read or written; the message names the file."""


class DamagedVideo(VideoError):
    """The output was written, but the input stopped decoding early: only part was colorized."""


def pyav():
    try:
        import av
    except ImportError as err:                          # pragma: no cover - a declared dependency
        raise VideoError("video needs PyAV: pip install av") from err
    return av


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


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


class VideoReader:
    """Decodes the video stream in a thread: frames as arrays, with their seconds from the first
    frame read (made sound by FrameTimes) and on the video's own clock."""

    def __init__(self, container, start: float | None, end: float | None):
        self.container, self.start_s, self.end_s = container, start, end
        self.video = container.streams.video[0]
        self.video.thread_type = "AUTO"
        self.audio = list(container.streams.audio)
        self.name = Path(container.name).name
        self.sliced = start is not None or end is not None
        self.gray = self.video.codec_context.pix_fmt in GRAY_FORMATS
        self._times = FrameTimes(self.video.time_base, self.video.average_rate or self.video.guessed_rate)
        self.last_time = 0.0                    # seconds of the last decoded frame
        self.damage: str | None = None          # why decoding stopped early, when it did
        self._queue: queue.Queue = queue.Queue(maxsize=32)
        self._error: BaseException | None = None
        self._stopping = False
        self._ended = False                     # END taken from the queue
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
        av = pyav()
        try:
            for packet in self.container.demux(self.video):
                if self._stopping:
                    return
                for frame in packet.decode():
                    if frame.pts is not None and not self._in_slice(float(frame.time)):
                        if self.end_s is not None and frame.time >= self.end_s:
                            return
                        continue
                    if frame.time is not None:
                        self.last_time = float(frame.time)
                    array = frame.to_ndarray(format="gray" if self.gray else "rgb24")
                    clock = Fraction(frame.pts) * self.video.time_base if frame.pts is not None else None
                    for item in self._times.push((array, clock), frame.pts):
                        self._queue.put(item)
        except (av.error.FFmpegError, ValueError) as err:
            if self._times.started:                      # keep what decoded; say where it stopped
                self.damage = f"decoding stopped after {self.last_time:.2f} s ({ffmpeg_reason(err)})"
            else:
                self._error = VideoError(f"{self.name}: cannot decode ({ffmpeg_reason(err)})")
        finally:
            for item in self._times.drain():
                self._queue.put(item)
            self._queue.put(END)

    def _in_slice(self, seconds: float) -> bool:
        return (self.start_s is None or seconds >= self.start_s - 1e-6) and (self.end_s is None or seconds < self.end_s)

    def frames(self) -> Iterator[tuple[np.ndarray, Fraction, Fraction | None]]:
        """(frame, seconds from the first frame read, seconds on the video's clock or None), in
        display order; the frame is (H, W, 3) RGB or (H, W) grey uint8."""
        while (item := self._queue.get()) is not END:
            (array, clock), seconds = item
            yield array, seconds, clock
        self._ended = True

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
        """Let the thread end early (after an error elsewhere) and wait for it. (It may still be
        alive after its END was taken by frames(): then there is nothing more to drain.)"""
        if self._thread.ident is None:
            return
        self._stopping = True
        while not self._ended:
            self._ended = self._queue.get() is END
        self._thread.join()


def frame_count(path: Path) -> int:
    """The number of frames a video declares (or its duration times its rate), from the header."""
    av = pyav()
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
        raise VideoError(f"{path}: not a video that can be read ({ffmpeg_reason(err)})") from None


def read_video_frames(path: Path) -> tuple[Iterator[np.ndarray], int | None]:
    """Every frame of a video as (H, W, 3) RGB uint8, decoded lazily, and the frame count if known."""
    av = pyav()
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(f"{path}: not a readable video ({ffmpeg_reason(err)})") from err
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
                raise VideoError(f"{path}: cannot decode ({ffmpeg_reason(err)})") from err

    return frames(), stream.frames or None


def ffmpeg_reason(err: BaseException) -> str:
    """FFmpeg's one-line reason, with the last line it logged when there is one."""
    text = getattr(err, "strerror", None) or str(err)
    text = text.splitlines()[0] if text else type(err).__name__
    log_lines = getattr(err, "log", None)
    if log_lines and isinstance(log_lines, tuple) and log_lines[-1]:
        text += f" ({str(log_lines[-1][-1]).strip()})"
    return text
