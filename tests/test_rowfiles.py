"""Strip-wise PNG and TIFF writers, and save_colorized, against PIL as the reference reader."""
import numpy as np
import pytest
import torch
from PIL import Image

from chromatize.images import open_image, save_atomic, save_colorized, to_lightness
from chromatize.inference.colorizer import _compose
from chromatize.rowfiles import write_png, write_tiff


@pytest.mark.parametrize("writer", [write_png, write_tiff])
@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("rows", [8, 37])                     # several strips, and one
def test_written_rows_read_back_exactly(tmp_path, writer, channels, rows):
    img = np.random.default_rng(channels).integers(0, 256, (37, 53, channels), dtype=np.uint8)
    path = tmp_path / "out"
    writer(path, 53, 37, channels, (img[i:i + rows] for i in range(0, 37, rows)))
    back = Image.open(path)
    assert back.mode == ("RGB" if channels == 3 else "RGBA")
    assert np.array_equal(np.asarray(back), img)


def test_strips_that_do_not_add_up_are_refused(tmp_path):
    img = np.zeros((10, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="the strips hold 10 rows, the image 12"):
        write_png(tmp_path / "a.png", 4, 12, 3, [img])
    with pytest.raises(ValueError, match="uint8"):
        write_tiff(tmp_path / "a.tif", 4, 10, 3, [img.astype(np.float32)])


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg", ".webp"])
@pytest.mark.parametrize("mode", ["L", "LA"])
def test_save_colorized_matches_the_whole_image_path(tmp_path, monkeypatch, suffix, mode):
    monkeypatch.setattr("chromatize.color.STRIP_PIXELS", 40 * 9)            # 34 strips of 9 rows
    rng = np.random.default_rng(1)
    grey = Image.fromarray(rng.integers(0, 256, (300, 40), dtype=np.uint8)).convert(mode)
    light = to_lightness(grey)
    ab = torch.rand(1, 2, 16, 8) * 1.2 - 0.6
    save_colorized(light, ab, tmp_path / f"strips{suffix}")
    save_atomic(_compose(light, ab), tmp_path / f"whole{suffix}")
    a, b = (np.asarray(open_image(tmp_path / f"{n}{suffix}")) for n in ("strips", "whole"))
    assert a.shape == b.shape == ((300, 40, 4) if mode == "LA" and suffix in (".png", ".tif") else
                                  (300, 40, 3) if suffix != ".webp" else b.shape)   # opaque alpha: WebP drops it
    assert np.array_equal(a, b)
