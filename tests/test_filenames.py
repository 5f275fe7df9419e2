"""File names as Linux has them, bytes: names that are not UTF-8, with a newline, a leading "-" or
only spaces are colorized, trained on and zipped like any other; printed, they are escaped."""
from __future__ import annotations

import os
import zipfile

import pytest
from conftest import scene

from chromatize.app.jobs import Limits, Models, Workspace, colorize_any, zip_outputs
from chromatize.cli import main
from chromatize.fileio import printable
from chromatize.training.config import build_config
from chromatize.training.recipe import train_run

LATIN1 = os.fsdecode(b"latin1_\xe9")            # the bytes of a Latin-1 name, as Python keeps them
STEMS = [LATIN1, "new\nline", "-dash", "   "]


def _folder(root, stems=STEMS):
    root.mkdir()
    for i, stem in enumerate(stems):
        scene(i).save(root / f"{stem}.png")
    return root


def test_printable_escapes_undecodable_bytes_and_line_breaks():
    assert printable(f"in/{LATIN1}.jpg") == "in/latin1_\\xe9.jpg"
    assert printable("new\nline.jpg") == "new\\nline.jpg"
    assert printable("   .jpg") == "   .jpg"


def test_a_folder_with_odd_names_is_colorized_whole_keeping_the_bytes(tmp_path, tiny_model_file):
    src = _folder(tmp_path / "in")
    out = tmp_path / "out"
    assert main(["colorize", str(src), "-o", str(out), "--model", str(tiny_model_file), "-q"]) == 0
    assert sorted(os.listdir(os.fsencode(out))) == sorted(os.fsencode(f"{s}.png") for s in STEMS)


@pytest.mark.parametrize("stem", STEMS)
def test_each_odd_name_is_colorized_on_its_own(tmp_path, tiny_model_file, stem, monkeypatch):
    _folder(tmp_path / "in", [stem])
    monkeypatch.chdir(tmp_path / "in")
    assert main(["colorize", "--model", str(tiny_model_file), "-q", "--", f"{stem}.png"]) == 0
    assert os.path.exists(os.fsencode(tmp_path / "in" / f"{stem}_color.png"))


def test_an_unreadable_file_with_such_a_name_gets_one_escaped_line(tmp_path, tiny_model_file, capsys):
    src = _folder(tmp_path / "in", ["good"])
    (src / f"bad_{LATIN1}.jpg").write_bytes(b"not a photo")
    assert main(["colorize", str(src), "-o", str(tmp_path / "out"), "--model", str(tiny_model_file), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad_latin1_\\xe9.jpg" in err[0]
    assert (tmp_path / "out" / "good.png").exists()


def test_training_reads_a_folder_with_odd_names(tmp_path):
    src = _folder(tmp_path / "in", STEMS + ["plain"])
    cfg = build_config(preset="scratch", overrides=dict(model_kwargs={"width": 8, "hints": True}, size=32,
                                                        batch_size=2, epochs=1, steps_per_epoch=1, sample_every=0))
    train_run(src, tmp_path / "run", cfg, progress=False)
    listed = (tmp_path / "run" / "val_images.txt").read_text(errors="surrogateescape")
    assert sum(os.path.exists(os.fsencode(src / f"{s}.png")) and f"{s}.png" in listed for s in STEMS + ["plain"]) == 1
    assert (tmp_path / "run" / "model.safetensors").exists()        # 5 trained, 1 validated


def test_the_batch_zip_names_an_undecodable_file_escaped(tmp_path, tiny_model_file):
    src = _folder(tmp_path / "in", [LATIN1])
    workspace = Workspace(tmp_path / "web")
    colorizer = Models(str(tiny_model_file)).colorizer(size=32)
    output = colorize_any(src / f"{LATIN1}.png", colorizer, workspace, Limits())
    assert output.exists()
    assert zipfile.ZipFile(zip_outputs([output], workspace)).namelist() == ["latin1_\\xe9_color.png"]
