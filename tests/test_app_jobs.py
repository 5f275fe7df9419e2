"""The web page's upload handling without the page (chromatize/app/jobs.py)."""
import zipfile

import numpy as np
import pytest
from PIL import Image

from chromatize.app.jobs import Limits, Models, UploadError, Workspace, check_upload, colorize_any, zip_outputs


def test_models_offer_the_default_and_the_runs_of_a_folder(tmp_path, tiny_model_file):
    (tmp_path / "runs" / "empty").mkdir(parents=True)
    (tmp_path / "runs" / "mine").mkdir()
    for suffix in (".safetensors", ".json"):
        (tmp_path / "runs" / "mine" / f"model{suffix}").write_bytes(tiny_model_file.with_suffix(suffix).read_bytes())
    models = Models("default", tmp_path / "runs")
    assert models.names == ["default", "mine"]
    colorizer = models.colorizer("mine", size=64, strength=0.5)
    assert (colorizer.size, colorizer.strength) == (64, 0.5)
    assert models.colorizer("mine").model is colorizer.model                  # loaded once, shared
    with pytest.raises(UploadError, match="unknown model 'theirs'; choose one of: default, mine"):
        models.colorizer("theirs")


def test_check_upload_names_the_file_and_the_limit(tmp_path):
    photo = tmp_path / "scan.png"
    Image.fromarray(np.zeros((300, 400), np.uint8)).save(photo)
    assert check_upload(photo, Limits()) == "photo"
    with pytest.raises(UploadError, match=r"scan.png: 400x300 is 0.1 megapixels, over the limit of 0.1"):
        check_upload(photo, Limits(max_megapixels=0.1))
    with pytest.raises(UploadError, match=r"scan.png: 0.0 MB is over the upload limit of 1e-05 MB"):
        check_upload(photo, Limits(max_upload_mb=0.00001))
    junk = tmp_path / "notes.jpg"
    junk.write_text("hello")
    with pytest.raises(UploadError, match="notes.jpg: not a photo, GIF or video"):
        check_upload(junk, Limits())


def test_a_batch_zip_keeps_every_file_under_its_own_name(tmp_path, tiny_model_file):
    workspace = Workspace(tmp_path / "out")
    colorizer = Models(str(tiny_model_file)).colorizer(size=32)
    outputs = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.new("L", (40, 30), 128).save(tmp_path / folder / "same.png")
        outputs.append(colorize_any(tmp_path / folder / "same.png", colorizer, workspace, Limits()))
    assert all(o.name == "same_color.png" and o.exists() for o in outputs) and outputs[0] != outputs[1]
    names = zipfile.ZipFile(zip_outputs(outputs, workspace)).namelist()
    assert names == ["same_color.png", "same_color-2.png"]
