"""Writing video through PyAV: H.264 or VP9 frames with the timestamps we set, muxed (in a
thread) with the input's untouched audio packets; also an animation's frames as a video.
"""
from __future__ import annotations

import queue
import threading
from collections import deque
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from ..metadata import KEEP_AND_MARK, Policy, mark_statement
from .video_read import END, VideoError, VideoReader, pyav

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi",
              ".gif": "gif"}
# Tags that described the input's encoding, not the film: the output's muxer writes its own.
_ENCODING_TAGS = {"encoder", "duration", "number_of_frames", "number_of_bytes", "bps", "major_brand", "minor_version",
                  "compatible_brands", "vendor_id", "rotate"}


def copy_tags(container_in, out, streams: list[tuple], *, policy: Policy, software: str) -> None:
    """The input's container tags (title, creation_time, comment, ...), chapters and each kept
    stream's tags (language, title, handler) onto the output, as `policy` says; the mark goes into
    the comment (after the input's own, if any). Call before the first packet is muxed."""
    if policy.keep:
        out.metadata.update(_film_tags(container_in.metadata))
        if chapters := container_in.chapters():
            out.set_chapters(chapters)
        for stream_in, stream_out in streams:
            stream_out.metadata.update(_film_tags(stream_in.metadata))
    if policy.mark:
        key = next((k for k in out.metadata if k.lower() == "comment"), "comment")    # Matroska's is COMMENT
        comment = out.metadata.get(key)
        out.metadata[key] = f"{comment}\n{mark_statement(software)}" if comment else mark_statement(software)


def _film_tags(tags: dict) -> dict:
    return {k: v for k, v in tags.items() if k.lower() not in _ENCODING_TAGS and not k.startswith("_STATISTICS")}


def encoder_for(target: Path) -> tuple[str, dict]:
    """Codec and options for a target: VP9 in WebM, H.264 elsewhere. H.264 without B-frames:
    with irregular frame times (variable rate, dropped frames, GIF durations) x264's B-frame
    decode times can overtake the presentation times, which MP4 and Matroska refuse."""
    if target.suffix.lower() == ".webm":
        return "libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
    return "libx264", {"preset": "veryfast", "bf": "0"}


class Encoder:
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
        frame = pyav().VideoFrame.from_ndarray(rgb, format="rgb24")
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


class VideoWriter:
    """Encodes and muxes in a thread; owns the output container."""

    def __init__(self, out, video_in, reader: VideoReader, target: Path, crf: int, *, policy: Policy = KEEP_AND_MARK,
                 software: str = "chromatize"):
        self.out, self.reader = out, reader
        ctx = video_in.codec_context
        self.encoder = Encoder(out, target, width=ctx.width, height=ctx.height, crf=crf,
                                rate=video_in.average_rate or video_in.guessed_rate)
        self.stream = self.encoder.stream
        self.audio = {}
        for stream in reader.audio:
            if stream.codec_context.name not in out.supported_codecs:
                raise VideoError(f"{reader.name}: its {stream.codec_context.name} audio cannot be stored in "
                                 f"{out.format.name}; choose another output format (mkv holds any)")
            self.audio[stream.index] = out.add_stream_from_template(stream)
        copy_tags(reader.container, out, [(video_in, self.stream)] + [(a, self.audio[a.index]) for a in reader.audio],
                  policy=policy, software=software)
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
        self._queue.put(END)
        self._thread.join()
        if self._error:
            raise self._error

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(END)
            self._thread.join()

    @property
    def count(self) -> int:
        return self.encoder.count

    def _run(self) -> None:
        held: list | None = []                           # audio before the first frame (header not written yet)
        ended = False
        try:
            while (item := self._queue.get()) is not END:
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
            while not ended and self._queue.get() is not END:   # unblock the producer
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


def write_frames_video(frames: list[np.ndarray], durations_ms: list[int], target: Path, *, crf: int = 18,
                       tags: dict | None = None) -> None:
    """Encode RGB frames shown for the given milliseconds each (an animation) as a video file,
    with these container tags."""
    av = pyav()
    h, w = frames[0].shape[:2]

    rate = Fraction(1000, max(1, round(sum(durations_ms) / len(durations_ms))))

    def write(tmp: str) -> None:
        with av.open(tmp, "w", format=CONTAINERS[target.suffix.lower()]) as out:
            encoder = Encoder(out, target, width=w, height=h, crf=crf, rate=rate)
            out.metadata.update(tags or {})
            start = 0
            for rgb, duration in zip(frames, durations_ms):
                encoder.encode(rgb, Fraction(start, 1000))
                start += max(1, duration)
            encoder.flush()

    atomic_write(target, write)
