"""A video job's work folder, so that a run killed half-way goes on where it stopped.

Colour frames are encoded in segments of SEGMENT_FRAMES frames; each finished segment is renamed
into the folder `.NAME.chromatize-parts/` beside the output, with the stabilizer's state after
its last frame, and `progress.json` lists them:

    .clip_color.mp4.chromatize-parts/
        lock              held (flock) by the run working here: a second run on the same output stops
        progress.json     the job's signature (input file, size and date, model, options), each
                          segment's frames, their exact timestamps, the time of its last frame on
                          the video's clock, and "finished" once every frame is in
        plan.json         the keyframe and reference plan (keyframes.FramePlan), made once
        .chromatize-*.tmp the output being joined (renamed over the output when complete)
        part-00000.mp4    the encoded frames (video only, in the output's container, so that their
                          bitstream is what that container wants); part-00000.npz the stabilizer's state
        ...

A re-run of the same command reads progress.json, seeks to the frame after the last finished
segment, restores the stabilizer and goes on; then the segments and the input's audio are joined
into the output (video_write.join, stream copy), written atomically, and the folder removed. A
different input or other options start over (with a warning), and so does --restart. Nothing in
the folder is ever the output; a half-written segment is a temporary file removed on the next run.
"""
from __future__ import annotations

import fcntl
import json
import logging
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..fileio import atomic_write, printable
from .video_read import VideoError

log = logging.getLogger(__name__)
PARTS_SUFFIX = ".chromatize-parts"
SEGMENT_FRAMES = 240            # frames per segment: what a kill can cost (about 10 s of video)


@dataclass
class Segment:
    file: str                   # part-NNNNN.SUFFIX in the parts folder
    frames: int
    pts: list[int]              # each frame's timestamp, in time_base
    time_base: str              # "1/90000"
    clock: str                  # seconds on the video's clock of the segment's last frame ("" if unknown)
    seconds: str                # seconds from the first frame of the output, of that frame


def parts_folder(target: Path) -> Path:
    return target.parent / f".{target.name}{PARTS_SUFFIX}"


class Parts:
    """The work folder of one video output (see the module's docstring); `with` holds its lock."""

    def __init__(self, target: Path, signature: dict, *, restart: bool = False):
        self.folder, self.signature, self.restart = parts_folder(target), signature, restart
        self.suffix = target.suffix.lower()
        self.segments: list[Segment] = []
        self.finished = False
        self._lock = None

    def __enter__(self) -> "Parts":
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.folder / "lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise VideoError(f"{printable(self.folder.parent)}: another chromatize run is writing "
                             f"{printable(self.folder.name[1:-len(PARTS_SUFFIX)])} now") from None
        for tmp in self.folder.glob("*.tmp"):             # what a killed run was writing
            tmp.unlink(missing_ok=True)
        self._load()
        return self

    def __exit__(self, *exc) -> None:
        if self._lock:
            self._lock.close()
            self._lock = None

    def _load(self) -> None:
        progress = self.folder / "progress.json"
        data = json.loads(progress.read_text()) if progress.is_file() else None
        resumable = data and (data["finished"] or not data["segments"] or data["segments"][-1]["clock"])
        if resumable and not self.restart and data.get("signature") == self.signature:
            self.segments = [Segment(**s) for s in data["segments"]]
            self.finished = data.get("finished", False)
            if self.segments:
                log.warning("%s: going on from frame %d (what an earlier run finished; --restart to redo it)",
                            printable(self.folder.name[1:-len(PARTS_SUFFIX)]), self.frames_done)
            return
        if data and not self.restart:
            log.warning("%s: the input or the options changed since the unfinished run: starting over",
                        printable(self.folder.name[1:-len(PARTS_SUFFIX)]))
        for old in self.folder.iterdir():
            if old.name != "lock":
                old.unlink()
        self.segments, self.finished = [], False
        self._save()

    @property
    def frames_done(self) -> int:
        return sum(s.frames for s in self.segments)

    def segment_path(self, n: int) -> Path:
        return self.folder / f"part-{n:05d}{self.suffix}"

    def state(self) -> dict[str, np.ndarray]:
        """The stabilizer's state after the last finished segment ({} before the first)."""
        if not self.segments:
            return {}
        with np.load(self.folder / Path(self.segments[-1].file).with_suffix(".npz")) as data:
            return {k: data[k] for k in data.files}

    def commit(self, segment: Segment, state: dict[str, np.ndarray]) -> None:
        """A segment finished (its file renamed in already): its state, then the progress."""
        atomic_write(self.folder / Path(segment.file).with_suffix(".npz"),
                     lambda tmp: _save_npz(tmp, state))
        self.segments.append(segment)
        self._save()

    def finish(self) -> None:
        self.finished = True
        self._save()

    def plan(self) -> str | None:
        path = self.folder / "plan.json"
        return path.read_text() if path.is_file() else None

    def save_plan(self, text: str) -> None:
        atomic_write(self.folder / "plan.json", lambda tmp: Path(tmp).write_text(text))

    def remove(self) -> None:
        self.__exit__()
        shutil.rmtree(self.folder, ignore_errors=True)

    def resume_point(self) -> tuple[Fraction, Fraction] | None:
        """(clock, seconds) of the last finished frame, or None to start at the beginning."""
        if not self.segments or not self.segments[-1].clock:
            return None
        last = self.segments[-1]
        return Fraction(last.clock), Fraction(last.seconds)

    def _save(self) -> None:
        data = {"signature": self.signature, "segments": [vars(s) for s in self.segments], "finished": self.finished}
        atomic_write(self.folder / "progress.json", lambda tmp: Path(tmp).write_text(json.dumps(data)))


def _save_npz(tmp: str, state: dict[str, np.ndarray]) -> None:
    with open(tmp, "wb") as fh:
        np.savez(fh, **state)


def file_signature(path: Path) -> dict:
    stat = path.stat()
    return {"input": str(path.resolve()), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
