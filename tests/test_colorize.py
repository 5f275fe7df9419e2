import io

import numpy as np
import pytest
import torch
from conftest import scene
from PIL import Image

from chromatize.cli import main
from chromatize.inference import Colorizer
from chromatize.models import load_model


@pytest.fixture
def colorizer(tiny_model_file):
    return Colorizer(load_model(tiny_model_file), size=64, device="cpu")


def cmyk_jpeg() -> Image.Image:
    buf = io.BytesIO()
    scene(1).convert("CMYK").save(buf, "JPEG")
    return Image.open(io.BytesIO(buf.getvalue()))


def palette(transparent: bool) -> Image.Image:
    img = scene(2).convert("P", palette=Image.ADAPTIVE, colors=16)
    if transparent:
        img.info["transparency"] = 0
    return img


ODD_INPUTS = {
    "grey": (lambda: scene(0).convert("L"), "RGB"),
    "bilevel": (lambda: scene(0).convert("1"), "RGB"),
    "grey+alpha": (lambda: scene(0).convert("LA"), "RGBA"),
    "rgba": (lambda: scene(0).convert("RGBA"), "RGBA"),
    "palette": (lambda: palette(False), "RGB"),
    "palette+transparency": (lambda: palette(True), "RGBA"),
    "16-bit": (lambda: Image.fromarray(np.asarray(scene(3).convert("L")).astype(np.uint16) * 257), "RGB"),
    "cmyk-jpeg": (cmyk_jpeg, "RGB"),
}


@pytest.mark.parametrize("kind", ODD_INPUTS)
def test_every_input_kind_keeps_size_and_mode_family(colorizer, kind):
    make, mode = ODD_INPUTS[kind]
    img = make()
    out = colorizer.colorize(img)
    assert out.size == img.size and out.mode == mode


def test_alpha_channel_is_kept_exactly(colorizer):
    rgba = np.asarray(scene(4).convert("RGBA")).copy()
    rgba[..., 3] = np.arange(rgba.shape[1], dtype=np.uint8)[None, :] * 5
    out = colorizer.colorize(Image.fromarray(rgba))
    assert np.array_equal(np.asarray(out)[..., 3], rgba[..., 3])


def test_sixteen_bit_uses_the_full_depth(colorizer):
    ramp16 = (np.linspace(0, 65535, 64 * 32).reshape(32, 64)).astype(np.uint16)
    ramp8 = (ramp16 / 257).round().astype(np.uint8)
    out16 = np.asarray(colorizer.colorize(Image.fromarray(ramp16)), int)
    out8 = np.asarray(colorizer.colorize(Image.fromarray(ramp8)), int)
    assert np.abs(out16 - out8).max() <= 3          # read as 16-bit, not clipped as if 8-bit


def test_colour_input_is_colorized_from_its_lightness_only(colorizer):
    img = scene(5)
    sepia = np.asarray(img.convert("L"), np.float32)[..., None] * np.array([1.0, 0.85, 0.6])
    tinted = Image.fromarray(sepia.clip(0, 255).astype(np.uint8))
    grey_version = Image.fromarray(np.asarray(tinted.convert("L")))
    a = np.asarray(colorizer.colorize(tinted)).astype(int)
    b = np.asarray(colorizer.colorize(grey_version)).astype(int)
    assert np.abs(a - b).max() <= 3                  # same L in, same colours out (up to 8-bit rounding)


def test_output_keeps_the_input_lightness(colorizer):
    img = scene(6, size=(200, 120)).convert("L")
    out = colorizer.colorize(img)
    assert np.abs(np.asarray(out.convert("L"), int) - np.asarray(img, int)).mean() < 6


def test_numpy_arrays_are_accepted(colorizer):
    assert colorizer.colorize(np.zeros((20, 30), np.uint8)).size == (30, 20)
    assert colorizer.colorize(np.zeros((20, 30, 4), np.uint8)).mode == "RGBA"
    with pytest.raises(ValueError, match="shape"):
        colorizer.colorize(np.zeros((2, 3, 5), np.uint8))


def test_batch_of_mixed_sizes_matches_one_by_one(colorizer):
    images = [scene(7, size=(64, 48)), scene(8, size=(40, 64)), scene(9, size=(64, 48))]
    batch = colorizer.colorize_batch(images)
    for img, out in zip(images, batch):
        assert np.abs(np.asarray(out, int) - np.asarray(colorizer.colorize(img), int)).max() <= 1


def exif_rotated_jpeg(path):
    img = scene(10, size=(60, 30))
    exif = Image.Exif()
    exif[0x0112] = 6                                    # orientation: rotate 90 degrees clockwise
    img.save(path, "JPEG", exif=exif.tobytes())


def test_cli_respects_exif_orientation(tmp_path, tiny_model_file):
    exif_rotated_jpeg(tmp_path / "rotated.jpg")
    assert main(["colorize", str(tmp_path / "rotated.jpg"), "--model", str(tiny_model_file), "-q"]) == 0
    assert Image.open(tmp_path / "rotated_color.jpg").size == (30, 60)


def test_colorize_takes_a_file_path_and_opens_it_as_the_cli_does(tmp_path, colorizer):
    exif_rotated_jpeg(tmp_path / "rotated.jpg")
    for source in (tmp_path / "rotated.jpg", str(tmp_path / "rotated.jpg")):
        out = colorizer.colorize(source)
        assert out.size == (30, 60)                    # EXIF orientation applied
    with pytest.raises(TypeError, match="file path"):
        colorizer.colorize(42)


def test_cli_folder_keeps_structure_names_and_format(photo_dir, tmp_path, tiny_model_file):
    out = tmp_path / "out"
    assert main(["colorize", str(photo_dir), "-o", str(out), "--model", str(tiny_model_file), "-q"]) == 0
    expected = sorted(p.relative_to(photo_dir) for p in photo_dir.rglob("*.png"))
    assert sorted(p.relative_to(out) for p in out.rglob("*.png")) == expected
    assert not list(out.rglob("*.tmp"))


def test_cli_format_option_changes_the_extension(photo_dir, tmp_path, tiny_model_file):
    out = tmp_path / "out"
    assert main(["colorize", str(photo_dir / "scene1.png"), "-o", str(out), "--format", "jpg",
                 "--model", str(tiny_model_file), "-q"]) == 0
    assert Image.open(out / "scene1.jpg").format == "JPEG"


def test_cli_in_place_adds_suffix_and_never_touches_inputs(photo_dir, tiny_model_file):
    before = {p: p.read_bytes() for p in photo_dir.rglob("*.png")}
    for out_args in ([], ["-o", str(photo_dir)]):
        assert main(["colorize", str(photo_dir), *out_args, "--model", str(tiny_model_file), "-q"]) == 0
    assert all(p.read_bytes() == data for p, data in before.items())
    assert len(list(photo_dir.rglob("*_color.png"))) == len(before)     # the second run skips earlier outputs


def test_bad_files_get_one_line_each_and_the_rest_are_done(photo_dir, tmp_path, tiny_model_file, capsys):
    (photo_dir / "broken.png").write_bytes(b"\x89PNG garbage")
    truncated = (photo_dir / "scene1.png").read_bytes()[:60]
    (photo_dir / "truncated.png").write_bytes(truncated)
    out = tmp_path / "out"
    code = main(["colorize", str(photo_dir), str(tmp_path / "missing.jpg"), "-o", str(out),
                 "--model", str(tiny_model_file), "-q"])
    assert code == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 3
    assert any("broken.png" in e for e in errors) and any("truncated.png" in e for e in errors)
    assert any("missing.jpg" in e for e in errors)
    assert len(list(out.rglob("*.png"))) == 8
    assert not (out / "broken.png").exists()


def test_unknown_model_file_is_a_clear_error(tmp_path, capsys):
    assert main(["colorize", str(tmp_path), "--model", str(tmp_path / "nope.safetensors"), "-q"]) == 2
    assert "nope.safetensors" in capsys.readouterr().err


def test_the_model_input_is_shrunk_with_antialiasing(tiny_model_file):
    """Noise shrunk 4x averages out; sampled without a low-pass filter it would keep its spread."""
    from chromatize.inference import load

    colorizer = load(tiny_model_file, size=16)
    noise = torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(0)) * 100   # L std about 29
    small = colorizer.model_input(noise)
    assert small.shape[-2:] == (16, 16) and small.std() < 12


def test_o_naming_a_file_writes_that_file_for_one_input(tmp_path, tiny_model_file, capsys):
    src = tmp_path / "in.png"
    scene(11, size=(40, 30)).save(src)
    common = ["--model", str(tiny_model_file), "-q"]
    assert main(["colorize", str(src), "-o", str(tmp_path / "new" / "out.jpg")] + common) == 0
    assert Image.open(tmp_path / "new" / "out.jpg").format == "JPEG"
    assert not (tmp_path / "new" / "out.jpg").is_dir()
    (tmp_path / "taken.png").mkdir()                      # an existing folder stays a folder
    assert main(["colorize", str(src), "-o", str(tmp_path / "taken.png")] + common) == 0
    assert (tmp_path / "taken.png" / "in.png").is_file()
    for args, says in (([str(src), str(src), "-o", str(tmp_path / "x.png")], "2 inputs"),
                       ([str(tmp_path / "new"), "-o", str(tmp_path / "y.png")], "the folder"),
                       ([str(src), "-o", str(tmp_path / "z.png"), "--format", "jpg"], "disagree"),
                       ([str(src), "-o", str(src)], "would replace its input")):
        assert main(["colorize"] + args + common) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "z.png").exists()
