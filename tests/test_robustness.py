"""Every file and every mistake gets a clear answer: real-world video, odd and broken files, CLI slips.

The odd-file corpus is generated here; each item must give a correct output or exactly one stderr
line naming the file, never a traceback; inputs are never modified and no temporary file is left.
"""
from __future__ import annotations

import hashlib
import os
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import scene
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageSequence

from chromatize.cli import build_parser, main
from chromatize.fileio import TMP_PREFIX, atomic_write
from chromatize.images import ImageError, open_image
from chromatize.media.video_read import FrameTimes

# --- video from the wild -------------------------------------------------------------------------


def make_avi(path: Path, n: int = 30, *, fps: Fraction = Fraction(30000, 1001), audio: bool = True) -> None:
    """MPEG-4 Part 2 (DivX-style, with B-frames) in AVI, plus AC-3 stereo audio."""
    with av.open(str(path), "w", format="avi") as box:
        video = box.add_stream("mpeg4", rate=fps, options={"bf": "2", "qscale": "4"})
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = None
        if audio:
            sound = box.add_stream("ac3", rate=48000)
            sound.layout = "stereo"
        for i in range(n):
            rgb = np.zeros((48, 64, 3), np.uint8)
            rgb[:, (2 * i) % 64:(2 * i) % 64 + 8] = (220, 40, 40)
            rgb[..., 2] = 90 + i
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            box.mux(video.encode(frame))
        box.mux(video.encode(None))
        if sound:
            samples = int(48000 * n / float(fps))
            for start in range(0, samples, 1536):
                chunk = np.zeros((2, 1536), np.float32)
                chunk[:] = 0.2 * np.sin(np.arange(start, start + 1536) / 20)
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, start
                box.mux(sound.encode(af))
            box.mux(sound.encode(None))


def video_facts(path: Path) -> tuple[int, list[float], int]:
    """(frame count, frame times in seconds, audio packets)."""
    with av.open(str(path)) as box:
        times = [float(f.time) for f in box.decode(box.streams.video[0])]
    with av.open(str(path)) as box:
        audio = sum(1 for p in box.demux(*box.streams.audio) if p.size) if box.streams.audio else 0
    return len(times), times, audio


@pytest.mark.parametrize("fmt", ["mkv", "mp4", "mov", "webm", "avi"])
def test_avi_with_b_frames_and_ac3_goes_to_every_container(tmp_path, tiny_model_file, fmt):
    src = tmp_path / "reel.avi"
    make_avi(src, audio=fmt != "webm")                  # WebM cannot hold AC-3 (a clear error, tested below)
    count, _, audio_in = video_facts(src)
    assert main(["colorize", str(src), "-o", str(tmp_path / "out"), "--format", fmt, "--model", str(tiny_model_file),
                 "--size", "32", "-q"]) == 0
    out_count, times, audio_out = video_facts(tmp_path / "out" / f"reel.{fmt}")
    assert out_count == count == 30
    assert all(b > a for a, b in zip(times, times[1:]))                      # valid, increasing
    assert times[-1] == pytest.approx(29 * 1001 / 30000, abs=0.04)            # the input's duration
    if fmt != "webm":
        assert audio_out == audio_in > 0


def test_ac3_into_webm_says_which_container_to_use(tmp_path, tiny_model_file, capsys):
    src = tmp_path / "reel.avi"
    make_avi(src, n=6)
    assert main(["colorize", str(src), "-o", str(tmp_path / "o"), "--format", "webm", "--model",
                 str(tiny_model_file), "--size", "32", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "reel.avi" in err[0] and "mkv" in err[0]
    assert not list((tmp_path / "o").glob("*")) if (tmp_path / "o").exists() else True


def test_frame_times_sort_decode_order_stamps_and_fill_gaps():
    times = FrameTimes(Fraction(1, 10), Fraction(10))
    stamps = [1, 2, 3, 5, 4, 6, 8, 7, 9, None, 11, 11, 12]
    out = [t for i, s in enumerate(stamps) for t in times.push(i, s)] + list(times.drain())
    frames, seconds = [f for f, _ in out], [float(t) for _, t in out]
    assert frames == list(range(len(stamps)))                                # every frame, in order
    assert seconds[:9] == pytest.approx([0, .1, .2, .3, .4, .5, .6, .7, .8])   # swapped stamps sorted
    assert all(b > a for a, b in zip(seconds, seconds[1:]))                   # missing and repeated: still increasing


def test_readme_video_and_gif_examples_run(tmp_path, tiny_model_file):
    """The README's commands (Animations and video), on small generated inputs."""
    make_avi(tmp_path / "reel.avi", n=40, fps=Fraction(10))
    gif = [scene(i, size=(48, 40)) for i in range(48)]
    gif[0].save(tmp_path / "anim.gif", save_all=True, append_images=gif[1:], duration=80, loop=0)
    model = ["--model", str(tiny_model_file), "--size", "32", "-q"]
    os.chdir(tmp_path)
    assert main(["colorize", "reel.avi", "--format", "mkv", "--start", "1", "--end", "3"] + model) == 0
    assert video_facts(tmp_path / "reel_color.mkv")[0] == 20
    assert main(["colorize", "anim.gif"] + model) == 0
    assert Image.open(tmp_path / "anim_color.gif").n_frames == 48
    assert main(["colorize", "anim.gif", "--format", "mp4"] + model) == 0
    count, times, _ = video_facts(tmp_path / "anim_color.mp4")
    assert count == 48 and times[-1] == pytest.approx(47 * 0.08, abs=0.01)


def test_truncated_video_keeps_what_decodes_and_says_where_it_stopped(tmp_path, tiny_model_file, capsys):
    full = tmp_path / "full.mkv"
    with av.open(str(full), "w") as box:
        stream = box.add_stream("libx264", rate=12, options={"bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        rng = np.random.default_rng(0)
        for i in range(48):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 12)
            box.mux(stream.encode(frame))
        box.mux(stream.encode(None))
    cut = tmp_path / "in" / "cut.mkv"
    cut.parent.mkdir()
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 6 // 10])
    assert main(["colorize", str(cut), "-o", str(tmp_path / "out"), "--model", str(tiny_model_file), "--size", "32",
                 "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cut.mkv: damaged: colorized" in err[0] and " s " in err[0]
    assert 0 < video_facts(tmp_path / "out" / "cut.mkv")[0] < 48


# --- animations ----------------------------------------------------------------------------------


def gif_with_repeats(path: Path) -> None:
    """Three identical frames of 100, 500 and 1000 ms (Pillow would fold them into one, so the
    file is written block by block)."""
    from PIL import GifImagePlugin

    frame = scene(0, size=(40, 30)).convert("P")
    header, _ = GifImagePlugin.getheader(frame)
    with open(path, "wb") as fp:
        for block in header:
            fp.write(block)
        for duration in (100, 500, 1000):
            for block in GifImagePlugin.getdata(frame, duration=duration):
                fp.write(block)
        fp.write(b";")


def test_identical_gif_frames_stay_frames_and_apng_default_image_is_no_frame(tmp_path, tiny_model_file):
    gif_with_repeats(tmp_path / "rep.gif")
    still = scene(9, size=(40, 30))
    still.save(tmp_path / "def.png", save_all=True, append_images=[scene(1, size=(40, 30)), scene(2, size=(40, 30))],
               default_image=True, duration=[100, 300])
    assert main(["colorize", str(tmp_path / "rep.gif"), str(tmp_path / "def.png"), "-o", str(tmp_path / "o"),
                 "--temporal", "off", "--model", str(tiny_model_file), "--size", "32", "-q"]) == 0
    with Image.open(tmp_path / "o" / "rep.gif") as out:
        frames = [np.asarray(f.convert("RGB"), int) for f in ImageSequence.Iterator(out)]
        durations = [f.info["duration"] for f in ImageSequence.Iterator(out)]
    assert durations == [100, 500, 1000] and np.abs(frames[0] - frames[2]).max() == 0
    with Image.open(tmp_path / "o" / "def.png") as out:
        assert out.n_frames == 2 and [f.info["duration"] for f in ImageSequence.Iterator(out)] == [100, 300]


# --- the odd-file corpus -------------------------------------------------------------------------


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height (the pixel data is a stub): a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def build_corpus(folder: Path) -> dict[str, bool]:
    """Odd and broken inputs; the value says whether an output is expected."""
    folder.mkdir()
    good = scene(3, size=(40, 30))
    expected: dict[str, bool] = {}

    def put(name: str, data: bytes | None, ok: bool, *, image: Image.Image | None = None, **save) -> None:
        path = folder / name
        if image is not None:
            image.save(path, **save)
        else:
            path.write_bytes(data)
        expected[name] = ok

    buf = folder / "_tmp.jpg"
    good.save(buf)
    jpeg = buf.read_bytes()
    buf.unlink()
    put("zero.jpg", b"", False)
    for cut in (10, 100, len(jpeg) // 2):
        put(f"cut{cut}.jpg", jpeg[:cut], cut > 600)              # a JPEG cut late still decodes (grey tail)
    put("png_as.jpg", None, True, image=good, format="PNG")      # wrong extension, fine content
    put("text.png", b"hello, not a picture\n" * 5, False)
    put("one.png", None, True, image=Image.new("L", (1, 1), 128))
    put("tall.png", None, True, image=Image.new("RGB", (1, 5000), (10, 200, 30)))
    put("deep.png", None, True, image=Image.fromarray((np.arange(600, dtype=np.uint16) * 100).reshape(20, 30)))
    put("cmyk.jpg", None, True, image=good.convert("CMYK"))
    palette = good.convert("P")
    put("pal_t.png", None, True, image=palette, transparency=0)
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        put(f"exif{orientation}.jpg", None, True, image=good, exif=exif)
    put("odd_33x17.png", None, True, image=scene(4, size=(33, 17)))
    put("bomb.png", png_declaring(30000, 30000), False)
    put("ünïcødé ✓.png", None, True, image=good)
    put("n" * 251 + ".png", None, True, image=good)             # 255 characters
    put("single.gif", None, True, image=good, save_all=True)
    make_vfr(folder / "vfr.mp4")
    expected["vfr.mp4"] = True
    make_empty_video(folder / "noframes.mkv")
    expected["noframes.mkv"] = False
    make_audio_only(folder / "sound.mkv")
    expected["sound.mkv"] = False
    os.mkfifo(folder / "pipe.png")
    expected["pipe.png"] = False
    os.symlink(folder / "loop_b.png", folder / "loop_a.png")
    os.symlink(folder / "loop_a.png", folder / "loop_b.png")
    expected["loop_a.png"] = expected["loop_b.png"] = False
    return expected


def make_vfr(path: Path) -> None:
    """A variable-frame-rate clip: frame times 0, 0.1, 0.15, 0.6, 0.65, 1.5 s."""
    with av.open(str(path), "w", format="matroska" if path.suffix == ".mkv" else None) as box:
        stream = box.add_stream("libx264", rate=20, options={"bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        for i, ms in enumerate((0, 100, 150, 600, 650, 1500)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 40 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            box.mux(stream.encode(frame))
        box.mux(stream.encode(None))


def make_empty_video(path: Path) -> None:
    """A Matroska file with a video stream and no frames: a clip cut where its first cluster starts."""
    make_vfr(path.with_suffix(".tmp.mkv"))
    data = path.with_suffix(".tmp.mkv").read_bytes()
    path.with_suffix(".tmp.mkv").unlink()
    path.write_bytes(data[:data.index(b"\x1f\x43\xb6\x75")])


def make_audio_only(path: Path) -> None:
    with av.open(str(path), "w") as box:
        sound = box.add_stream("aac", rate=16000)
        sound.layout = "mono"
        af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        af.sample_rate, af.pts = 16000, 0
        box.mux(sound.encode(af))
        box.mux(sound.encode(None))


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file() and not p.is_fifo()}


def test_corpus_gives_an_output_or_one_line_each(tmp_path, tiny_model_file, capsys):
    src = tmp_path / "corpus"
    expected = build_corpus(src)
    before = digest(src)
    out = tmp_path / "out"
    (out).mkdir()
    (out / f"{TMP_PREFIX}999999-stale.tmp").write_bytes(b"left by a killed run")
    code = main(["colorize", str(src), "-o", str(out), "--model", str(tiny_model_file), "--size", "32", "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("chromatize: error:")]
    failing = [name for name, ok in expected.items() if not ok]
    for name in failing:
        assert sum(name in line for line in lines) == 1, (name, lines)
    assert len(lines) == len(failing)
    written = {p.stem for p in out.iterdir()}
    for name, ok in expected.items():
        assert (Path(name).stem in written) == ok, name
    assert "30000x30000 is 900 megapixels" in err and "--max-megapixels" in err
    assert digest(src) == before                                     # inputs untouched
    assert not list(out.glob(".*"))                                  # no temporary file, the stale one swept
    with Image.open(out / "tall.png") as img:
        assert img.size == (1, 5000)
    count, times, _ = video_facts(out / "vfr.mp4")
    assert count == 6 and times == pytest.approx([0, 0.1, 0.15, 0.6, 0.65, 1.5], abs=0.002)


def test_megapixel_limit_is_an_option(tmp_path, tiny_model_file, capsys):
    big = tmp_path / "big.png"
    Image.new("L", (1200, 1000), 100).save(big)
    args = ["colorize", str(big), "-o", str(tmp_path / "o"), "--model", str(tiny_model_file), "--size", "32", "-q"]
    assert main(args + ["--max-megapixels", "1"]) == 1
    assert "1200x1000 is 1 megapixels, over the limit of 1 (raise it with --max-megapixels)" in capsys.readouterr().err
    assert main(args + ["--max-megapixels", "2"]) == 0


def test_colliding_outputs_get_distinct_names(tmp_path, tiny_model_file, caplog):
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        scene(1).save(tmp_path / folder / "x.png")
    scene(2).save(tmp_path / "d1" / "a.jpg")
    scene(3).save(tmp_path / "d1" / "a.png")
    out = tmp_path / "out"
    assert main(["colorize", str(tmp_path / "d1" / "x.png"), str(tmp_path / "d2" / "x.png"), "-o", str(out),
                 "--model", str(tiny_model_file), "--size", "32"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["x-2.png", "x.png"]
    assert "would both write" in caplog.text
    assert main(["colorize", str(tmp_path / "d1"), "--format", "png", "--model", str(tiny_model_file),
                 "--size", "32", "-q"]) == 0
    assert {"a_color.png", "a_color-2.png"} <= {p.name for p in (tmp_path / "d1").iterdir()}


def test_temporary_names_are_short_and_stale_ones_from_dead_runs_are_swept(tmp_path):
    long_name = tmp_path / ("y" * 251 + ".png")
    atomic_write(long_name, lambda tmp: Path(tmp).write_bytes(b"ok"))
    assert long_name.read_bytes() == b"ok"
    sub = tmp_path / "sub"
    sub.mkdir()
    dead = sub / f"{TMP_PREFIX}999999-abc.tmp"
    alive = sub / f"{TMP_PREFIX}{os.getpid()}-abc.tmp"
    dead.write_bytes(b"")
    alive.write_bytes(b"")
    atomic_write(sub / "f.txt", lambda tmp: Path(tmp).write_text("x"))
    assert not dead.exists() and alive.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
                               b"II*\x00", b"BM", b""]),
       body=st.binary(max_size=300))
def test_decoders_fuzz_only_raise_image_errors(tmp_path_factory, prefix, body):
    from chromatize.media.animation import is_animation, read_animation

    folder = tmp_path_factory.mktemp("fuzz")
    for suffix in (".png", ".gif"):
        path = folder / f"f{suffix}"
        path.write_bytes(prefix + body)
        try:
            open_image(path)
        except ImageError as err:
            assert str(path) in str(err)
        if is_animation(path):
            try:
                read_animation(path)
            except ImageError as err:
                assert str(path) in str(err)


# --- mistakes ------------------------------------------------------------------------------------


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 2 and "Traceback" not in "".join(err), err      # argparse adds a usage line
    return err[-1]


@pytest.mark.parametrize("args, message", [
    (["colorize", "IN", "--batch-size", "-3"], "--batch-size: must be from 1 to 1024, got -3"),
    (["colorize", "IN", "--batch-size", "0"], "--batch-size: must be from 1 to 1024, got 0"),
    (["colorize", "IN", "--size", "100000"], "--size: must be from 16 to 4096, got 100000"),
    (["colorize", "IN", "--crf", "99"], "--crf: must be from 0 to 51, got 99"),
    (["colorize", "IN", "--start", "2", "--end", "1"], "--end (1) must be after --start (2)"),
    (["colorize", "IN", "--model", "gamma"], "gamma: no such model file"),
    (["train", "IN", "--out", "R", "--batch-size", "0"], "--batch-size: must be at least 1, got 0"),
    (["train", "IN", "--out", "R", "--epochs", "0"], "--epochs: must be at least 1, got 0"),
    (["train", "IN", "--out", "R", "--size", "100"], "size must be a multiple of 16"),
])
def test_bad_options_name_the_value(tmp_path, args, message, capsys):
    (tmp_path / "IN").mkdir()
    scene(0).save(tmp_path / "IN" / "a.png")
    args = [str(tmp_path / a) if a in ("IN", "R") else a for a in args]
    try:
        code = main(args + ["-q"])
    except SystemExit as exit_info:                       # argparse's own errors exit 2
        code = exit_info.code
    assert code == 2
    assert message in one_error_line(capsys)


def test_model_files_that_are_not_models_say_so(tmp_path, tiny_model_file, capsys):
    photo = tmp_path / "p.png"
    scene(0).save(photo)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "garbage.pt").write_bytes(b"hello")
    (tmp_path / "nameless.safetensors").write_bytes(tiny_model_file.read_bytes())
    (tmp_path / "nameless.json").write_text("{}")
    cases = {"notes.txt": "not a model file", "p.png": "not a model file", "garbage.pt": "not a chromatize checkpoint",
             "nameless.safetensors": "no 'name'"}
    for name, message in cases.items():
        assert main(["colorize", str(photo), "--model", str(tmp_path / name), "-q"]) == 2
        assert message in one_error_line(capsys)
    assert main(["export", str(tmp_path / "notes.txt"), str(tmp_path / "x.safetensors")]) == 2
    assert "not a model file" in one_error_line(capsys)


def test_train_never_replaces_a_run_by_accident(photo_dir, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", str(photo_dir), "--out", str(out), "--model", "unet", "--model-option", "width=8", "--size", "32",
            "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--sample-every", "1", "-q"]
    assert main(args) == 0
    history = (out / "history.csv").read_text()
    assert main(args) == 2
    assert "--resume" in one_error_line(capsys) and (out / "history.csv").read_text() == history
    (out / "samples" / "epoch_999.png").write_bytes(b"old")
    assert main(args + ["--overwrite"]) == 0
    assert not (out / "samples" / "epoch_999.png").exists()
    (tmp_path / "afile").write_text("x")
    assert main(args[:3] + [str(tmp_path / "afile")] + args[4:]) == 2
    assert "is a file" in one_error_line(capsys)


def test_nothing_done_is_not_success_and_bare_command_shows_help(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["colorize", str(tmp_path / "empty"), "-q"]) == 2
    assert "no images, animations or videos found" in one_error_line(capsys)
    assert main([]) == 0
    assert "colorize" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and "chromatize 0." in capsys.readouterr().out


def test_documented_defaults_match_the_code():
    """Help texts and README quote the parser's and the default recipe's values (TrainConfig's
    defaults, which the train flags' help is made from)."""
    from chromatize.inference import DEFAULT_SIZE
    from chromatize.training.config import TrainConfig

    recipe = TrainConfig()
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "==SUPPRESS==" or hasattr(a, "choices") and a.choices)
    train = sub.choices["train"]
    rebalance = next(a for a in train._actions if a.dest == "rebalance")
    assert f"default recipe: {recipe.rebalance}" in rebalance.help
    size = next(a for a in train._actions if a.dest == "size")
    assert f"default recipe: {recipe.size}" in size.help
    assert f"(default {DEFAULT_SIZE}" in readme
    assert f"`--size {recipe.size}`" in readme
    assert f"rebalance {recipe.rebalance}" in readme


@pytest.mark.parametrize("where", ["encode", "flush"])
def test_an_encoder_error_ends_the_run_with_one_line_and_no_temp_file(tmp_path, tiny_model_file, capsys,
                                                                      monkeypatch, where):
    """The writer thread failing (here at the flush after the last frame, where the old code
    hung forever) ends the run cleanly."""
    import chromatize.media.video_write as video_write

    def fail(self, *args):
        raise av.error.ArgumentError(22, "Invalid argument")

    monkeypatch.setattr(video_write.Encoder, where, fail)
    src = tmp_path / "reel.avi"
    make_avi(src, n=12, audio=False)
    assert main(["colorize", str(src), "-o", str(tmp_path / "o"), "--format", "mp4", "--model", str(tiny_model_file),
                 "--size", "32", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "reel.avi" in err[0] and "Invalid argument" in err[0]
    assert not list((tmp_path / "o").iterdir())
