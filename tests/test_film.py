"""Films: keyframe hints carried both ways within their shot, references per shot, `chromatize
shots`, a video job that goes on after a kill, tiny animations at their own size."""
from __future__ import annotations

import fcntl
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from chromatize.cli import main
from chromatize.color import rgb_to_lab
from chromatize.inference import Colorizer
from chromatize.inference.points import Point, ShotReference, read_guidance
from chromatize.media import video as video_module
from chromatize.media.frames import FrameColorizer
from chromatize.media.video import colorize_video
from chromatize.media.video_parts import parts_folder
from chromatize.media.video_read import VideoError
from chromatize.models import create_model, save_model
from test_video import make_video, moving_frames

RED = (230, 20, 20)


@pytest.fixture
def hint_colorizer():
    torch.manual_seed(0)
    return Colorizer(create_model("unet", width=8, hints=True), size=64, device="cpu")


def two_shots(n: int = 10) -> list[np.ndarray]:
    """A pan over one texture, then a hard cut to a pan over a darker other one (RGB uint8, 64x48)."""
    second = [(f * 0.35).astype(np.uint8) for f in moving_frames(n, seed=7)]
    return moving_frames(n, seed=1) + second


def a_of(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_lab(torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None])[0, 1].numpy()


def test_hints_name_their_keyframe_by_frame_or_seconds_on_the_command_line_and_in_a_file(tmp_path):
    (tmp_path / "summer.jpg").write_bytes(b"not read here")
    hints = tmp_path / "film.json"
    hints.write_text(json.dumps([{"frame": 240, "x": 120, "y": 80, "color": "#c0392b"},
                                 {"time": 9.6, "x": 1, "y": 2, "color": "#000000"},
                                 {"shot": 3, "reference": "summer.jpg"},
                                 {"from": 60, "to": 75.5, "reference": "summer.jpg"}]))
    points, refs = read_guidance(["240:120,80,#c0392b", "9.6s:1,2,#000000", ".5s:1,2,#000000", "3,4,#ffffff"], hints)
    assert [(p.frame, p.time) for p in points] == [(240, None), (None, 9.6), (None, 0.5), (None, None),
                                                   (240, None), (None, 9.6)]
    assert points[0] == Point(120, 80, (192, 57, 43), frame=240) and points[3].keyframe == "the first frame"
    summer = tmp_path / "summer.jpg"
    assert refs == [ShotReference(summer, shot=3), ShotReference(summer, start=60, end=75.5)]
    assert refs[1].covers(1, 60) and refs[1].covers(9, 75.4) and not refs[1].covers(1, 75.5)
    assert refs[0].covers(3, 0) and not refs[0].covers(2, 0)
    for bad, message in (("-1:1,2,#000000", "expected X,Y"), ("9.6:1,2,#000000", "expected X,Y"),
                         ("2.5x:1,2,#000000", "expected X,Y")):
        with pytest.raises(ValueError, match=message):
            read_guidance([bad])
    for entry, message in (({"frame": -1, "x": 1, "y": 2, "color": "#000000"}, "not a frame number"),
                           ({"frame": 1, "time": 2, "x": 1, "y": 2, "color": "#000000"}, "both a frame"),
                           ({"time": "soon", "x": 1, "y": 2, "color": "#000000"}, "not a number of seconds"),
                           ({"shot": 0, "reference": "summer.jpg"}, "shot must be a shot number"),
                           ({"shot": 1, "from": 2, "reference": "summer.jpg"}, "not both"),
                           ({"from": 5, "to": 2, "reference": "summer.jpg"}, "to must be after from"),
                           ({"shot": 1, "reference": "winter.jpg"}, "winter.jpg is not a file"),
                           ({"shot": 1, "reference": "summer.jpg", "frame": 2}, "does not read: frame")):
        hints.write_text(json.dumps([entry]))
        with pytest.raises(ValueError, match=f"^{hints}: .*{message}"):
            read_guidance([], hints)


def test_a_keyframe_point_colours_its_shot_before_and_after_it_and_not_the_next_shot(hint_colorizer):
    frames = two_shots()
    plain = list(FrameColorizer(hint_colorizer).colorize(frames))
    keyed = FrameColorizer(hint_colorizer, hints=[Point(20, 24, RED, frame=5)])
    hinted = list(keyed.colorize(frames))
    assert [s.first for s in keyed.plan.shots] == [0, 10]
    carried = sorted(keyed.plan.points)
    assert carried[0] == 0 and carried[-1] == 9                  # back to the shot's start, on to its end
    xs = [keyed.plan.points[i][0].x for i in carried]
    assert xs[0] > 20 > xs[-1] - 0 - 1e9 and all(b < a for a, b in zip(xs, xs[1:]))   # the texture pans left
    for i in (0, 3, 5, 7, 9):                                   # before and after the keyframe
        p = keyed.plan.points[i][0]
        y, x = int(p.y), int(p.x)
        assert a_of(hinted[i])[y - 1:y + 2, x - 1:x + 2].mean() > a_of(plain[i])[y - 1:y + 2, x - 1:x + 2].mean() + 10
    for i in range(10, 20):                                     # the next shot is untouched
        assert np.array_equal(hinted[i], plain[i])


def test_points_from_two_keyframes_both_count_where_they_meet(hint_colorizer):
    frames = two_shots()
    keyed = FrameColorizer(hint_colorizer, hints=[Point(20, 24, RED, frame=2), Point(40, 10, (20, 20, 230), frame=8)])
    list(keyed.colorize(frames))
    assert all(len(keyed.plan.points[i]) == 2 for i in range(10))
    assert all(i not in keyed.plan.points for i in range(10, 20))


def test_a_reference_for_one_shot_changes_that_shot_alone(hint_colorizer, tmp_path):
    frames = two_shots()
    photo = tmp_path / "warm.png"
    Image.fromarray(np.full((32, 32, 3), (200, 120, 40), np.uint8)).save(photo)
    plain = list(FrameColorizer(hint_colorizer, temporal="off").colorize(frames))
    shot2 = list(FrameColorizer(hint_colorizer, temporal="off",
                                references=[ShotReference(photo, shot=2)]).colorize(frames))
    assert all(np.array_equal(a, b) for a, b in zip(plain[:10], shot2[:10]))
    assert min(np.abs(a_of(a) - a_of(b)).mean() for a, b in zip(plain[10:], shot2[10:])) > 1.0


def test_a_keyframe_outside_the_video_or_a_point_outside_the_frame_is_one_line_naming_it(hint_colorizer, tmp_path):
    src = tmp_path / "clip.mp4"
    make_video(src, two_shots(6), fps=12)
    for hint, message in ((Point(5, 5, RED, frame=12), r"on frame 12 is outside its 12 frames \(0-11\)"),
                          (Point(5, 5, RED, time=3.0), r"on 3 s is outside its frames"),
                          (Point(80, 5, RED, frame=3), r"\(80, 5\) on frame 3 is outside the 64x48 frame")):
        with pytest.raises(ValueError, match=f"^clip.mp4: the hint at .*{message}"):
            colorize_video(FrameColorizer(hint_colorizer, hints=[hint]), src, tmp_path / "out.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_a_time_keyframe_in_a_video_is_the_frame_shown_then(hint_colorizer, tmp_path):
    src = tmp_path / "clip.mp4"
    make_video(src, two_shots(), fps=10)
    frames = FrameColorizer(hint_colorizer, hints=[Point(20, 24, RED, time=0.55)])
    colorize_video(frames, src, tmp_path / "out.mp4", progress=False)
    assert frames.plan.points[5][0] == Point(20, 24, RED)      # 0.55 s: frame 5 (0.5 s) is on screen
    assert min(frames.plan.points) == 0 and max(frames.plan.points) == 9


def test_shots_lists_the_cut_of_a_joined_clip_and_none_in_a_pan(tmp_path, capsys):
    src = tmp_path / "two.mp4"
    make_video(src, two_shots(), fps=10)
    assert main(["shots", str(src), "--json", "--thumbnails", str(tmp_path / "thumbs")]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(s["shot"], s["first_frame"], s["frames"]) for s in listed["shots"]] == [(1, 0, 10), (2, 10, 10)]
    assert listed["shots"][1]["time"] == pytest.approx(1.0)
    assert [Image.open(s["thumbnail"]).size for s in listed["shots"]] == [(64, 48)] * 2
    pan = tmp_path / "pan.gif"
    images = [Image.fromarray(f) for f in moving_frames(8)]
    images[0].save(pan, save_all=True, append_images=images[1:], duration=50)
    assert main(["shots", str(pan)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 2 and table[1].split() == ["1", "0", "0:00.000", "8"]


def _kill_after(monkeypatch, frames: int) -> None:
    """Make the colorizing loop die (as a kill would) after this many frames of the next run."""
    real = FrameColorizer.colorize

    def dying(self, source, *, first=0):
        for n, rgb in enumerate(real(self, source, first=first)):
            if n == frames:
                raise KeyboardInterrupt("killed")
            yield rgb

    monkeypatch.setattr(FrameColorizer, "colorize", dying)


def _facts(path: Path) -> tuple[list[Fraction], int, list[np.ndarray]]:
    with av.open(str(path)) as box:
        video = box.streams.video[0]
        frames = [(f.pts * video.time_base, f.to_ndarray(format="rgb24")) for f in box.decode(video)]
    with av.open(str(path)) as box:
        audio = sum(1 for p in box.demux(*box.streams.audio) if p.size)
    return [t for t, _ in frames], audio, [f for _, f in frames]


def test_a_killed_video_goes_on_from_its_last_segment_with_the_timing_and_audio_of_a_whole_run(
        hint_colorizer, tmp_path, monkeypatch):
    monkeypatch.setattr(video_module, "SEGMENT_FRAMES", 8)
    src = tmp_path / "reel.mp4"
    make_video(src, moving_frames(40), fps=12, audio_seconds=40 / 12)
    whole = colorize_video(FrameColorizer(hint_colorizer), src, tmp_path / "whole.mp4", progress=False)
    target = tmp_path / "resumed.mp4"
    with monkeypatch.context() as m:
        _kill_after(m, 21)
        with pytest.raises(KeyboardInterrupt):
            colorize_video(FrameColorizer(hint_colorizer), src, target, progress=False)
    progress = json.loads((parts_folder(target) / "progress.json").read_text())
    assert [s["frames"] for s in progress["segments"]] == [8, 8] and not target.exists()
    report = colorize_video(FrameColorizer(hint_colorizer), src, target, progress=False)
    assert (report.resumed_from, report.frames, whole.frames) == (16, 40, 40)
    times, audio, pixels = _facts(target)
    whole_times, whole_audio, whole_pixels = _facts(tmp_path / "whole.mp4")
    assert times == whole_times and audio == whole_audio == report.audio_packets > 0
    assert max(np.abs(a.astype(int) - b).mean() for a, b in zip(pixels, whole_pixels)) < 1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reel.mp4", "resumed.mp4", "whole.mp4"]


def test_restart_or_other_options_start_over_and_a_second_run_on_the_same_output_stops(
        hint_colorizer, tmp_path, monkeypatch):
    monkeypatch.setattr(video_module, "SEGMENT_FRAMES", 8)
    src = tmp_path / "reel.mp4"
    make_video(src, moving_frames(24), fps=12)
    target = tmp_path / "out.mp4"
    for run in ({}, {"restart": True}, {"crf": 30}):
        with monkeypatch.context() as m:
            _kill_after(m, 12)
            with pytest.raises(KeyboardInterrupt):
                colorize_video(FrameColorizer(hint_colorizer), src, target, progress=False, **run)
    progress = json.loads((parts_folder(target) / "progress.json").read_text())
    assert progress["signature"]["crf"] == 30 and len(progress["segments"]) == 1     # started over each time
    with open(parts_folder(target) / "lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(VideoError, match="another chromatize run is writing out.mp4"):
            colorize_video(FrameColorizer(hint_colorizer), src, target, progress=False)
    report = colorize_video(FrameColorizer(hint_colorizer), src, target, progress=False, restart=True)
    assert (report.resumed_from, report.frames) == (0, 24) and not parts_folder(target).exists()


def test_frames_smaller_than_the_model_size_run_at_their_own_size(hint_colorizer):
    seen = []
    real = hint_colorizer.predict_frames

    def spy(l_full, **kw):
        seen.append(tuple(kw["small"].shape[-2:]))
        return real(l_full, **kw)

    hint_colorizer.predict_frames = spy
    list(FrameColorizer(hint_colorizer).colorize([np.zeros((8, 12, 3), np.uint8)] * 3))
    list(FrameColorizer(hint_colorizer).colorize([np.zeros((100, 50, 3), np.uint8)] * 2))
    m = hint_colorizer.model.multiple
    assert m == 16 and seen == [(16, 16), (64, 32)]              # own size up to the stride; big ones shrink
    assert hint_colorizer.model_shape(8, 12) == (48, 64)         # photos still take the model size


def test_a_keyframe_hint_on_a_photo_is_one_line_and_the_batch_goes_on(tmp_path, capsys):
    torch.manual_seed(0)
    model = save_model(create_model("unet", width=8, hints=True), tmp_path / "m" / "model.safetensors")
    Image.fromarray(np.full((32, 48, 3), 120, np.uint8)).save(tmp_path / "photo.png")
    make_video(tmp_path / "clip.mp4", two_shots(4), fps=10)
    assert main(["colorize", str(tmp_path / "photo.png"), str(tmp_path / "clip.mp4"), "-o", str(tmp_path / "out"),
                 "--model", str(model), "--hint", "5:10,10,#ff0000", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "photo.png" in err[0] and "on frame 5 is for a video or animation" in err[0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip.mp4"]


def test_the_command_line_takes_keyframe_points_and_references_per_shot_from_a_hints_file(tmp_path):
    torch.manual_seed(0)
    model = save_model(create_model("unet", width=8, hints=True), tmp_path / "m" / "model.safetensors")
    src = tmp_path / "clip.mp4"
    make_video(src, two_shots(), fps=10)
    Image.fromarray(np.full((32, 32, 3), (40, 120, 220), np.uint8)).save(tmp_path / "blue.png")
    (tmp_path / "film.json").write_text(json.dumps([{"shot": 2, "reference": "blue.png"},
                                                     {"time": 0.3, "x": 20, "y": 24, "color": "#e61414"}]))
    runs = {}
    for name, extra in (("plain", []), ("guided", ["--hints", str(tmp_path / "film.json")])):
        assert main(["colorize", str(src), "-o", str(tmp_path / name / "out.mp4"), "--model", str(model),
                     "--temporal", "off", "-q", *extra]) == 0
        with av.open(str(tmp_path / name / "out.mp4")) as box:
            runs[name] = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    change = [np.abs(a_of(p) - a_of(g)).mean() for p, g in zip(runs["plain"], runs["guided"])]
    # shot 1: the point (on frame 3, carried both ways); shot 2: the reference
    assert min(change[:10]) > 0.3 and min(change[10:]) > 1.0


def test_an_animation_takes_keyframe_points_by_frame_number_or_by_its_frames_durations(tmp_path):
    torch.manual_seed(0)
    model = save_model(create_model("unet", width=8, hints=True), tmp_path / "m" / "model.safetensors")
    src = tmp_path / "pan.gif"
    images = [Image.fromarray(f) for f in moving_frames(6)]
    images[0].save(src, save_all=True, append_images=images[1:], duration=50, loop=0)
    runs = {}
    for name, extra in (("plain", []), ("frame", ["--hint", "5:20,24,#e61414"]),
                        ("time", ["--hint", "0.26s:20,24,#e61414"])):
        assert main(["colorize", str(src), "-o", str(tmp_path / name), "--model", str(model), "--format", "png",
                     "-q", *extra]) == 0
        with Image.open(tmp_path / name / "pan.png") as img:
            runs[name] = [np.asarray(img.seek(i) or img.convert("RGB")) for i in range(img.n_frames)]
    assert all(np.array_equal(a, b) for a, b in zip(runs["frame"], runs["time"]))     # 0.26 s: frame 5 (0.25 s)
    first = [a_of(runs[name][0]) for name in ("plain", "frame")]
    assert (first[1] - first[0]).max() > 10                    # carried back to the first frame


def test_the_plan_stops_reading_frames_once_every_point_is_carried(hint_colorizer, tmp_path):
    frames, read = two_shots() + two_shots(), []

    def source():
        for i, frame in enumerate(frames):
            read.append(i)
            yield frame, i / 10

    plan = FrameColorizer(hint_colorizer, hints=[Point(20, 24, RED, frame=3)]).make_plan(source())
    assert max(read) == 10 and sorted(plan.points) == list(range(10))    # to the cut after the point's shot
    read.clear()
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(photo)
    plan = FrameColorizer(hint_colorizer, hints=[Point(20, 24, RED, frame=3)],
                          references=[ShotReference(photo, shot=4)]).make_plan(source())
    assert max(read) == 39 and [s.first for s in plan.shots] == [0, 10, 20, 30]   # references need every frame
    assert plan.reference_at(29) is None and plan.reference_at(30) == str(photo)
