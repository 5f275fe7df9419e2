"""A video job killed (SIGKILL) about half-way, then run again: does the output equal an
uninterrupted run's, and does the second run only do what was left?

    .venv/bin/python benchmarks/resume.py [--frames 720] [--kill-at 0.5] [--model default]

The clip: a pan over a test photo at 320x240, 24 frames/s, with an AAC tone as audio. Three runs
of `chromatize colorize` as subprocesses: one uninterrupted; one killed with SIGKILL once the work
folder records `kill-at` of the frames; the same command again. The table gives each run's wall
time, the frames it colorized, and whether the output's frame count, timestamps and audio packets
equal the uninterrupted run's (and how far its pixels are), and what was left beside the output.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from keyframes import grey, pan  # noqa: E402
from chromatize.media.video_parts import parts_folder  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def make_clip(path: Path, frames: list[np.ndarray], fps: int = 24) -> None:
    with av.open(str(path), "w") as box:
        video = box.add_stream("libx264", rate=fps, options={"crf": "18"})
        video.width, video.height, video.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        audio = box.add_stream("aac", rate=44100)
        audio.layout = "stereo"
        for frame in frames:
            box.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        box.mux(video.encode(None))
        samples = int(44100 * len(frames) / fps)
        for start in range(0, samples, 1024):
            t = np.arange(start, start + 1024) / 44100
            chunk = np.repeat((0.2 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32), 2, axis=0)
            af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            af.sample_rate, af.pts = 44100, start
            box.mux(audio.encode(af))
        box.mux(audio.encode(None))


def facts(path: Path) -> tuple[list[int], list[bytes], list[np.ndarray]]:
    """(video timestamps, audio packets' bytes, frames)."""
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        frames = [(f.pts, f.to_ndarray(format="rgb24")) for f in box.decode(stream)]
    with av.open(str(path)) as box:
        audio = [bytes(p) for p in box.demux(box.streams.audio[0]) if p.size]
    return [t for t, _ in frames], audio, [f for _, f in frames]


def command(src: Path, out: Path, model: str) -> list[str]:
    return [sys.executable, "-m", "chromatize", "colorize", str(src), "-o", str(out), "--model", model, "-q"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=720)
    parser.add_argument("--kill-at", type=float, default=0.5)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    photo = DATA / (ROOT / "splits" / "test.txt").read_text().split()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "clip.mp4"
        make_clip(src, grey(pan(photo, args.frames)))
        started = time.perf_counter()
        subprocess.run(command(src, tmp / "whole.mp4", args.model), check=True)
        whole_s = time.perf_counter() - started
        target = tmp / "resumed.mp4"
        progress = parts_folder(target) / "progress.json"
        started = time.perf_counter()
        proc = subprocess.Popen(command(src, target, args.model))
        done = 0
        while proc.poll() is None and done < args.kill_at * args.frames:
            time.sleep(0.2)
            if progress.is_file():
                try:
                    done = sum(s["frames"] for s in json.loads(progress.read_text())["segments"])
                except (json.JSONDecodeError, KeyError):
                    pass
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_s = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run(command(src, target, args.model), check=True)
        second_s = time.perf_counter() - started
        a, b = facts(tmp / "whole.mp4"), facts(target)
        left = sorted(p.name for p in tmp.iterdir() if p.name not in ("clip.mp4", "whole.mp4", "resumed.mp4"))
        print(f"\n{args.frames} frames at 320x240, killed after {done} frames were recorded, model {args.model}")
        print("| run | wall s | frames it colorized |\n|---|---|---|")
        print(f"| uninterrupted | {whole_s:.1f} | {args.frames} |")
        print(f"| killed (SIGKILL) | {killed_s:.1f} | {done} kept |")
        print(f"| run again | {second_s:.1f} | {args.frames - done} |")
        share = (args.frames - done) / args.frames
        print(f"second run / uninterrupted: {second_s / whole_s:.2f} (the part left: {share:.2f})")
        print(f"frames {len(b[0])} vs {len(a[0])}; timestamps equal: {a[0] == b[0]}; audio packets equal: "
              f"{a[1] == b[1]} ({len(b[1])}); largest mean pixel difference of a frame: "
              f"{max(np.abs(x.astype(int) - y).mean() for x, y in zip(a[2], b[2])):.3f}")
        print(f"left beside the outputs: {left or 'nothing'}")


if __name__ == "__main__":
    main()
