"""Animations and videos: timing, audio, the stabilizer, flicker metrics and bad files."""
from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from chromatize.cli import main
from chromatize.color import rgb8_to_l
from chromatize.evaluation.metrics import CdcAccumulator, WarpErrorAccumulator
from chromatize.inference import load
from chromatize.media.animation import read_animation
from chromatize.media.frames import FrameColorizer
from chromatize.media.stabilize import FlowStabilizer


def moving_frames(n: int = 12, *, size: tuple[int, int] = (64, 48), step: int = 2, seed: int = 0) -> list[np.ndarray]:
    """A smooth random texture panning right by `step` px a frame (RGB uint8)."""
    w, h = size
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 1, (h // 4 + 1, (w + step * n) // 4 + 1, 3))
    texture = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize(
        (coarse.shape[1] * 4, coarse.shape[0] * 4), Image.Resampling.BICUBIC))
    return [np.ascontiguousarray(texture[:h, i * step:i * step + w]) for i in range(n)]


def light_of(rgb: np.ndarray) -> np.ndarray:
    return rgb8_to_l(rgb[None])[0, 0].numpy()


# --- animations ---------------------------------------------------------------------------------

def make_gif(path, *, durations=(40, 120, 70, 200, 90), loop=3) -> None:
    """Frames that change only in a small square (so the GIF stores partial frames), mixed disposal."""
    w, h = 40, 32
    frames = []
    for i in range(len(durations)):
        img = np.full((h, w, 3), (30, 90, 160), np.uint8)
        img[4 + 3 * i:12 + 3 * i, 6 + 4 * i:14 + 4 * i] = (200, 60, 40)
        frames.append(Image.fromarray(img))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=list(durations), loop=loop,
                   disposal=[1, 2, 1, 0, 1])


def test_gif_round_trip_keeps_count_durations_loop_size_and_each_frame(tmp_path, tiny_model_file):
    src = tmp_path / "anim.gif"
    make_gif(src)
    extents, disposals = [], set()
    with Image.open(src) as img:                       # the fixture really has partial frames and disposals
        for i in range(img.n_frames):
            img.seek(i)
            extents.append(img.tile[0][1])
            disposals.add(img.disposal_method)
    assert any(e != (0, 0, 40, 32) for e in extents) and {1, 2} <= disposals
    original = read_animation(src)
    assert main(["colorize", str(src), "--model", str(tiny_model_file), "-q"]) == 0
    out = read_animation(tmp_path / "anim_color.gif")
    assert len(out.frames) == 5 and out.durations == [40, 120, 70, 200, 90]
    assert out.loop == 3 and out.size == (40, 32)
    for before, after in zip(original.frames, out.frames):    # each output frame is its own frame's L
        assert np.abs(light_of(before) - light_of(after)).mean() < 3.0


@pytest.mark.parametrize("fmt", ["webp", "png", "mp4"])
def test_animation_output_formats(tmp_path, tiny_model_file, fmt):
    src = tmp_path / "anim.gif"
    make_gif(src)
    assert main(["colorize", str(src), "--model", str(tiny_model_file), "--format", fmt, "-q"]) == 0
    target = tmp_path / f"anim_color.{fmt}"
    if fmt == "mp4":
        with av.open(str(target)) as box:
            stream = box.streams.video[0]
            times = [float(f.time) for f in box.decode(stream)]
        assert len(times) == 5
        assert np.allclose(np.diff(times), [0.04, 0.12, 0.07, 0.2], atol=0.002)
    else:
        out = read_animation(target)
        assert len(out.frames) == 5 and out.durations == [40, 120, 70, 200, 90] and out.size == (40, 32)


def test_gif_without_loop_entry_plays_once(tmp_path, tiny_model_file):
    src = tmp_path / "once.gif"
    frames = [Image.fromarray(f) for f in moving_frames(3)]
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=50)
    assert main(["colorize", str(src), "--model", str(tiny_model_file), "--no-dither", "-q"]) == 0
    assert read_animation(tmp_path / "once_color.gif").loop is None


# --- video --------------------------------------------------------------------------------------

def make_video(path, frames: list[np.ndarray], *, fps: int = 12, audio_seconds: float = 0.0, gray: bool = False):
    with av.open(str(path), "w") as box:
        video = box.add_stream("libx264", rate=fps, options={"crf": "10"})
        video.width, video.height = frames[0].shape[1], frames[0].shape[0]
        video.pix_fmt = "gray" if gray else "yuv420p"
        audio = None
        if audio_seconds:
            audio = box.add_stream("aac", rate=16000)
            audio.layout = "mono"
        for frame in frames:
            vf = av.VideoFrame.from_ndarray(frame[..., 0] if gray else frame, format="gray" if gray else "rgb24")
            box.mux(video.encode(vf))
        box.mux(video.encode(None))
        if audio:
            n = int(16000 * audio_seconds)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)).astype(np.float32)[None]
            for start in range(0, n, 1024):
                af = av.AudioFrame.from_ndarray(tone[:, start:start + 1024], format="fltp", layout="mono")
                af.sample_rate, af.pts = 16000, start
                box.mux(audio.encode(af))
            box.mux(audio.encode(None))


def packets(path, kind: str) -> list[bytes]:
    with av.open(str(path)) as box:
        return [bytes(p) for p in box.demux(getattr(box.streams, kind)[0]) if p.size]


def test_video_keeps_frames_rate_size_and_copies_audio_untouched(tmp_path, tiny_model_file):
    src = tmp_path / "clip.mp4"
    make_video(src, moving_frames(24), fps=12, audio_seconds=2.0)
    assert main(["colorize", str(src), "--model", str(tiny_model_file), "-q"]) == 0
    out = tmp_path / "clip_color.mp4"
    with av.open(str(out)) as box:
        video = box.streams.video[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 64, 48)
        assert video.average_rate == Fraction(12) and len(list(box.decode(video))) == 24
        assert box.streams.audio[0].codec_context.name == "aac"
    assert packets(out, "audio") == packets(src, "audio")


def test_video_slice_and_grey_input(tmp_path, tiny_model_file):
    src = tmp_path / "grey.mkv"
    make_video(src, moving_frames(24), fps=12, gray=True)
    assert main(["colorize", str(src), "--model", str(tiny_model_file), "--start", "0.5", "--end", "1.5",
                 "--format", "mp4", "--temporal", "off", "-q"]) == 0
    with av.open(str(tmp_path / "grey_color.mp4")) as box:
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(box.streams.video[0])]
    assert len(frames) == 12                                        # 1 s at 12 fps
    assert max(np.abs(f[..., 0].astype(int) - f[..., 2]).max() for f in frames) > 0   # colour, not grey


def test_video_rotation_is_kept(tmp_path, tiny_model_file):
    src = tmp_path / "turned.mp4"
    with av.open(str(src), "w") as box:
        video = box.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.set_display_rotation(90)
        for frame in moving_frames(4):
            box.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        box.mux(video.encode(None))
    assert main(["colorize", str(src), "--model", str(tiny_model_file), "-q"]) == 0

    def rotation(path) -> int:
        with av.open(str(path)) as box:
            return next(box.decode(video=0)).rotation

    assert rotation(tmp_path / "turned_color.mp4") == rotation(src) != 0


@pytest.mark.parametrize("kind", ["truncated-video", "garbage-video", "truncated-gif"])
def test_corrupt_media_gives_one_line_and_leaves_nothing_behind(tmp_path, tiny_model_file, capsys, kind):
    folder = tmp_path / "in"
    folder.mkdir()
    if kind == "truncated-gif":
        make_gif(folder / "bad.gif")
        bad = folder / "bad.gif"
    else:
        make_video(folder / "bad.mp4", moving_frames(12))
        bad = folder / "bad.mp4"
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2] if kind.startswith("truncated") else b"\x00junk" * 200)
    Image.fromarray(moving_frames(1)[0]).save(folder / "good.png")
    out = tmp_path / "out"
    assert main(["colorize", str(folder), "-o", str(out), "--model", str(tiny_model_file), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad." in err[0]
    assert sorted(p.name for p in out.rglob("*")) == ["good.png"]


# --- the stabilizer and the flicker metrics -----------------------------------------------------

class NoisyColorizer:
    """Stands in for a model: a fixed colour per surface plus fresh noise every frame (flicker)."""

    batch_size = 4

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def model_input(self, l_full, *, upscale=True):
        return l_full

    def reference_hint(self, reference):
        return reference

    def predict_frames(self, l_full, *, small=None, reference=None):
        import torch

        l_norm = l_full / 50 - 1
        ab = torch.cat((0.3 * l_norm, -0.2 * l_norm), dim=1)
        noise = torch.from_numpy(self.rng.normal(0, 0.08, ab.shape[:2] + (1, 1))).float()
        return l_full, ab + noise


def flicker(temporal: str, frames: list[np.ndarray]) -> tuple[float, float]:
    colorizer = FrameColorizer(NoisyColorizer(), temporal=temporal)
    cdc, warp = CdcAccumulator(), WarpErrorAccumulator()
    from chromatize.evaluation.clips import _lab

    for rgb in colorizer.colorize(frames):
        lab = _lab(rgb)
        cdc.add(rgb)
        warp.add(np.clip(lab[..., 0] * 2.55, 0, 255).astype(np.uint8), {"out": lab[..., 1:]})
    return cdc.result(), warp.result()["out"]


def test_stabilizer_lowers_flicker_on_a_moving_clip():
    frames = moving_frames(16, size=(96, 64))
    cdc_off, warp_off = flicker("off", frames)
    cdc_flow, warp_flow = flicker("flow", frames)
    assert warp_flow < 0.5 * warp_off
    assert cdc_flow < cdc_off


def test_scene_cut_resets_the_stabilizer():
    first, second = moving_frames(3, seed=1), moving_frames(2, seed=2)
    second = [255 - f // 2 for f in second]                              # a different, darker scene
    stab = FlowStabilizer()
    rng = np.random.default_rng(0)
    outputs, predictions = [], []
    for rgb in first + second:
        ab = rng.normal(0, 0.3, (2, *rgb.shape[:2])).astype(np.float32)
        predictions.append(ab)
        outputs.append(stab(light_of(rgb), ab))
    assert stab.cuts == 1
    assert not np.allclose(outputs[2], predictions[2])                   # within the shot: blended
    assert np.array_equal(outputs[3], predictions[3])                    # first frame after the cut: fresh


def test_cdc_and_warp_error_by_hand():
    red, blue = np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8)
    red[..., 0], blue[..., 2] = 255, 255
    same = CdcAccumulator()
    for _ in range(5):
        same.add(red)
    assert same.result() == 0
    flip = CdcAccumulator(dilations=(1,))
    flip.add(red)
    flip.add(blue)                 # R and B histograms move from one bin to another: JS = ln 2; G stays
    assert flip.result() == pytest.approx(2 / 3 * np.log(2))
    frames = moving_frames(3, size=(64, 48))
    warp = WarpErrorAccumulator()
    for i, rgb in enumerate(frames):
        ab = np.zeros((48, 64, 2), np.float32)
        ab[..., 0] = 10.0 * (i % 2)                                     # a alternates 0, 10, 0
        warp.add(np.clip(light_of(rgb) * 2.55, 0, 255).astype(np.uint8), {"alt": ab, "still": ab * 0})
    result = warp.result()
    assert result["alt"] == pytest.approx(100.0) and result["still"] == 0


def test_evaluate_video_reports_modes_and_truth(tmp_path, tiny_model_file, capsys):
    src = tmp_path / "truth.mp4"
    make_video(src, moving_frames(10))
    assert main(["evaluate-video", str(src), "--model", str(tiny_model_file), "--out", str(tmp_path / "ev"),
                 "-q"]) == 0
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["frames"] == 10 and set(summary["modes"]) == {"off", "flow"}
    for row in summary["modes"].values():
        assert row["psnr"] > 10 and row["cdc"] >= 0 and row["warp_error"] >= 0 and row["warp_error_8bit"] >= 0
    assert summary["truth"]["warp_error"] >= 0
    with Image.open(tmp_path / "ev" / "strip.png") as strip:
        assert strip.width > strip.height / 4                            # rows of grey | off | flow | truth
    assert "temporal flow" in capsys.readouterr().out


def test_frame_pipeline_matches_the_photo_path(tiny_model_file):
    colorizer = load(tiny_model_file, device="cpu")
    frames = moving_frames(3)
    video = list(FrameColorizer(colorizer, temporal="off").colorize(frames))
    for frame, out in zip(frames, video):
        photo = np.asarray(colorizer.colorize(Image.fromarray(frame)))
        assert np.abs(photo.astype(int) - out).max() <= 1


def test_point_tracker_follows_a_pan_and_drops_a_point_that_leaves():
    from chromatize.inference.points import Point
    from chromatize.media.stabilize import PointTracker

    rng = np.random.default_rng(0)
    texture = cv2_blur(rng.uniform(0, 100, (64, 160)).astype(np.float32))
    tracker = PointTracker([Point(60.0, 30.0, (200, 30, 30)), Point(4.0, 30.0, (0, 0, 255))])
    for n in range(8):
        frame = texture[:, 3 * n:3 * n + 96]                                   # the view pans right: content moves left
        points = tracker.step(frame, frame.shape)
    assert len(points) == 1                                                     # the point at x=4 left the frame
    assert abs(points[0].x - (60 - 3 * 7)) < 1.5 and abs(points[0].y - 30) < 1.5
    assert points[0].rgb == (200, 30, 30)


def cv2_blur(img):
    import cv2

    return cv2.GaussianBlur(img, (0, 0), 2)


def test_evaluate_video_scores_a_colourless_model_as_worked_out_independently(tmp_path):
    import torch
    from skimage.metrics import peak_signal_noise_ratio

    from chromatize.evaluation.clips import evaluate_clip, read_clip
    from chromatize.evaluation.photos import GrayBaseline
    from chromatize.inference import Colorizer
    from chromatize.models import ColorNet

    class NoColour(ColorNet):
        def forward(self, l_norm):
            return torch.zeros(l_norm.shape[0], 2, *l_norm.shape[-2:])

    src = tmp_path / "truth.mp4"
    make_video(src, moving_frames(6))
    summary = evaluate_clip(Colorizer(NoColour(), size=64, device="cpu"), src, modes=("off",), progress=False)
    frames, _ = read_clip(src)
    expected = [peak_signal_noise_ratio(f, np.asarray(GrayBaseline().colorize(Image.fromarray(f))), data_range=255)
                for f in frames]
    row = summary["modes"]["off"]
    assert summary["frames"] == 6 and row["psnr"] == pytest.approx(np.mean(expected), abs=0.02)
    assert row["warp_error"] == 0 and row["cdc"] < 0.01            # grey never flickers (8-bit rounding aside)
    assert summary["truth"]["warp_error"] > 0                       # the truth has colour that moves
