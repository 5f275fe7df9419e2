"""Video frames/s end to end (decode -> colorize -> stabilize -> encode) for a 640x480 clip.

    .venv/bin/python benchmarks/video.py [--source ../shared/data/video/vtest.avi] [--frames 200] [--runs 3] \
        [--all-members]

Makes a 640x480 H.264 clip from the first --frames frames of --source (grey, as a user's old film
would be), then times `colorize_video` on it with the stabilizer off and on (median of --runs),
and the stabilizer alone per frame on the model-resolution L and a,b of the same frames. Frames
run as `chromatize colorize` runs them (Colorizer.for_frames: an ensemble's first member alone
where bf16 is slow); --all-members runs every member of an ensemble on every frame.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.inference import load  # noqa: E402
from chromatize.media.frames import FrameColorizer, frames_lightness  # noqa: E402
from chromatize.media.stabilize import FlowStabilizer  # noqa: E402
from chromatize.media.video import colorize_video  # noqa: E402

SIZE = (640, 480)


def make_clip(source: Path, frames: int, target: Path) -> list[np.ndarray]:
    """Grey 640x480 H.264 copy of the first `frames` frames; returns them as arrays too."""
    kept = []
    with av.open(str(source)) as box, av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=box.streams.video[0].average_rate or 25, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        for frame in box.decode(video=0):
            grey = frame.reformat(width=SIZE[0], height=SIZE[1], format="gray").to_ndarray()
            kept.append(grey)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.repeat(grey[..., None], 3, 2), format="rgb24")))
            if len(kept) == frames:
                break
        out.mux(stream.encode(None))
    return kept


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=str(ROOT.parent / "shared" / "data" / "video" / "vtest.avi"))
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="default")
    parser.add_argument("--all-members", action="store_true", help="an ensemble: every member on every frame")
    args = parser.parse_args()
    colorizer = load(args.model, device="cpu")
    colorizer = colorizer if args.all_members else colorizer.for_frames()
    print(f"torch threads: {torch.get_num_threads()}; model input long side {colorizer.size}; "
          f"network {colorizer.model.config['name']}")
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip_640x480.mp4"
        greys = make_clip(Path(args.source), args.frames, clip)
        n = len(greys)
        rows = []
        for temporal in ("off", "flow"):
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                report = colorize_video(FrameColorizer(colorizer, temporal=temporal), clip, Path(tmp) / "out.mp4",
                                        progress=False)
                times.append(time.perf_counter() - start)
                assert report.frames == n
            rows.append((temporal, statistics.median(times)))
        light = frames_lightness(greys[:64])
        small, ab = colorizer.predict_frames(light)
        stab = FlowStabilizer()
        per_frame = []
        for _ in range(3):
            stab.reset()
            start = time.perf_counter()
            for i in range(len(small)):
                stab(small[i, 0].numpy(), ab[i].numpy())
            per_frame.append((time.perf_counter() - start) / len(small))
    print(f"\n{n} frames of {SIZE[0]}x{SIZE[1]}, median of {args.runs} runs")
    print(f"{'temporal':<10}{'seconds':>10}{'frames/s':>10}{'ms/frame':>10}")
    for temporal, seconds in rows:
        print(f"{temporal:<10}{seconds:>10.2f}{n / seconds:>10.1f}{1000 * seconds / n:>10.1f}")
    h, w = small.shape[-2:]
    print(f"stabilizer alone at {w}x{h}: {1000 * statistics.median(per_frame):.2f} ms/frame")


if __name__ == "__main__":
    main()
