"""Writing video through PyAV: H.264 or VP9 frames with the timestamps we set, encoded (in a
thread) into segments (video_parts.py), then joined with the input's untouched audio packets
into the output; also an animation's frames as a video.
"""
from __future__ import annotations

import heapq
import io
import os
import queue
import threading
from collections import deque
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from ..metadata import KEEP_AND_MARK, Policy, mark_statement
from .video_parts import Parts, Segment
from .video_read import END, VideoError, pyav

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

    def __init__(self, out, target: Path, *, width: int, height: int, crf: int, rate: Fraction | None,
                 last_pts: int | None = None):
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
        self._last: int | None = last_pts           # the frame before (a segment goes on from the one before)
        self.pts: list[int] = []                    # every frame's timestamp, in time_base
        self.count = 0

    def encode(self, rgb: np.ndarray, seconds: Fraction) -> None:
        """Encode one (H, W, 3) RGB frame shown from `seconds` after the start."""
        pts = round(seconds / self.time_base)
        if self._last is not None and pts <= self._last:
            pts = self._last + 1
        self._last = pts
        self.pts.append(pts)
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


class SegmentWriter:
    """Encodes colour frames in a thread into the parts folder's segments (video_parts.py):
    put(rgb, seconds) per frame, end_segment(...) after a segment's last frame."""

    def __init__(self, parts: Parts, video_in, target: Path, crf: int):
        ctx = video_in.codec_context
        self.parts, self.target, self.crf = parts, target, crf
        self.size = (ctx.width, ctx.height)
        self.rate = video_in.average_rate or video_in.guessed_rate
        self.count = 0                                    # frames encoded by this run
        self._last_pts = parts.segments[-1].pts[-1] if parts.segments else None
        self._segment: tuple | None = None                 # (container, Encoder, tmp path) being written
        self._queue: queue.Queue = queue.Queue(maxsize=16)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def put(self, rgb: np.ndarray, seconds: Fraction) -> None:
        self._send(("frame", rgb, seconds))

    def end_segment(self, clock: Fraction | None, seconds: Fraction, state: dict) -> None:
        """The frame put last ends a segment: it was shown at `clock` on the video's clock and
        `seconds` into the output; state: the stabilizer's after it."""
        self._send(("end", clock, seconds, state))

    def finish(self) -> None:
        self._queue.put(END)
        self._thread.join()
        if self._error:
            raise self._error

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(END)
            self._thread.join()

    def _send(self, item) -> None:
        if self._error:
            raise self._error
        self._queue.put(item)

    def _run(self) -> None:
        ended = False
        try:
            while (item := self._queue.get()) is not END:
                if item[0] == "frame":
                    self._encoder().encode(item[1], item[2])
                    self.count += 1
                else:
                    self._close(*item[1:])
            ended = True
        except BaseException as err:                     # surfaced in the main thread by put/finish
            self._error = err
            while not ended and self._queue.get() is not END:   # unblock the producer
                pass
        finally:
            if self._segment:
                self._segment[0].close()

    def _encoder(self) -> "Encoder":
        if self._segment is None:
            final = self.parts.segment_path(len(self.parts.segments))
            tmp = final.with_name(final.name + ".tmp")
            out = pyav().open(str(tmp), "w", format=CONTAINERS[self.target.suffix.lower()])
            encoder = Encoder(out, self.target, width=self.size[0], height=self.size[1], crf=self.crf,
                              rate=self.rate, last_pts=self._last_pts)
            self._segment = (out, encoder, tmp)
        return self._segment[1]

    def _close(self, clock: Fraction | None, seconds: Fraction, state: dict) -> None:
        out, encoder, tmp = self._segment
        encoder.flush()
        out.close()
        self._segment = None
        final = tmp.with_name(tmp.name[:-len(".tmp")])
        os.replace(tmp, final)
        self._last_pts = encoder.pts[-1]
        self.parts.commit(Segment(final.name, len(encoder.pts), encoder.pts, str(encoder.time_base),
                                  "" if clock is None else str(clock), str(seconds)), state)


def check_audio(container_in, target: Path, name: str) -> None:
    """Stop before any work when the output's container cannot hold the input's audio."""
    with pyav().open(io.BytesIO(), "w", format=CONTAINERS[target.suffix.lower()]) as probe:
        for stream in container_in.streams.audio:
            if stream.codec_context.name not in probe.supported_codecs:
                raise VideoError(f"{name}: its {stream.codec_context.name} audio cannot be stored in "
                                 f"{probe.format.name}; choose another output format (mkv holds any)")


def join(parts: Parts, container_in, target: Path, tmp: Path, *, start: float | None, end: float | None,
         rotation: int, policy: Policy = KEEP_AND_MARK, software: str = "chromatize") -> int:
    """The segments' video packets, with their exact timestamps, and the input's audio packets in
    [start, end) (shifted by start), interleaved by time into tmp as target's container (stream
    copy: nothing is encoded again); the input's tags go along as `policy` says. The audio was
    checked to fit the container before any work (check_audio). Returns the audio packets copied."""
    av = pyav()
    with av.open(str(tmp), "w", format=CONTAINERS[target.suffix.lower()]) as out:
        with av.open(str(parts.folder / parts.segments[0].file)) as first:
            video = out.add_stream_from_template(first.streams.video[0])
        video.time_base = Fraction(parts.segments[0].time_base)
        if rotation:
            video.set_display_rotation(rotation)
        audio = {s.index: out.add_stream_from_template(s) for s in container_in.streams.audio}
        copy_tags(container_in, out, [(container_in.streams.video[0], video)] +
                  [(s, audio[s.index]) for s in container_in.streams.audio], policy=policy, software=software)
        rate = container_in.streams.video[0].average_rate or container_in.streams.video[0].guessed_rate
        packets = heapq.merge(_segment_packets(parts, video, rate),
                              _audio_packets(container_in, audio, start, end), key=lambda item: item[0])
        copied = 0
        for _, packet in packets:
            copied += packet.stream is not video
            out.mux(packet)
    return copied


def _segment_packets(parts: Parts, video, rate: Fraction | None):
    """(seconds, packet) of every segment's frames, in order, each with its recorded timestamp and
    one frame period as its duration (as the encoder gives it)."""
    av = pyav()
    for segment in parts.segments:
        time_base = Fraction(segment.time_base)
        period = max(1, round(1 / (Fraction(rate) * time_base))) if rate else 0
        stamps = iter(segment.pts)
        with av.open(str(parts.folder / segment.file)) as container:
            for packet in container.demux(container.streams.video[0]):
                if packet.size == 0:
                    continue
                packet.pts = packet.dts = next(stamps)
                packet.time_base, packet.stream, packet.duration = time_base, video, period
                yield packet.pts * time_base, packet


def _audio_packets(container_in, audio: dict, start: float | None, end: float | None):
    """(seconds from start, packet) of the input's audio in [start, end), in file order."""
    if not audio:
        return
    container_in.seek(0)
    if start:
        container_in.seek(int(start * 1_000_000), backward=True)
    offset = Fraction(start or 0)
    for packet in container_in.demux(*[s for s in container_in.streams.audio if s.index in audio]):
        if packet.pts is None or packet.size == 0:
            continue
        seconds = packet.pts * packet.time_base
        if start is not None and seconds < start - 1e-6:
            continue
        if end is not None and seconds >= end:
            continue
        shift = int(offset / packet.time_base)
        packet.pts -= shift
        packet.dts = packet.dts - shift if packet.dts is not None else None
        packet.stream = audio[packet.stream.index]
        yield seconds - offset, packet


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
