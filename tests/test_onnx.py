"""The network as an ONNX graph: onnxruntime gives what PyTorch gives; the onnx runtime path; the
certainty map."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import scene
from PIL import Image

from chromatize.cli import main
from chromatize.inference import Colorizer, load
from chromatize.models import DEFAULT_MODEL
from chromatize.models import create_model, load_model, save_model
from chromatize.models._layers import BinColorNet

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def _inputs(model, b: int, h: int, w: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    l_norm = torch.rand(b, 1, h, w, generator=g) * 2 - 1
    if not model.takes_hints:
        return (l_norm,)
    points = torch.zeros(b, 3, h, w)
    points[:, :2, 5:8, 9:12] = torch.rand(b, 2, 1, 1, generator=g) - 0.5
    points[:, 2, 5:8, 9:12] = 1
    reference = torch.zeros(b, model.bin_centers.shape[0] + 2)
    reference[0, :-2] = torch.softmax(torch.randn(model.bin_centers.shape[0], generator=g) * 3, 0)
    reference[0, -2:] = torch.tensor([0.2, 1.0])
    return l_norm, points, reference


def _compare(model, path):
    from chromatize.models.onnx_io import export_onnx

    export_onnx(model, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert names == ["l_norm", "points", "reference"][:len(names)]            # the names the API documents
    assert all(i.shape[0] == "batch" for i in session.get_inputs())            # one dynamic batch axis
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["multiple"] == str(model.multiple) and "l_norm" in meta["usage"]
    assert json.loads(meta["chromatize_config"]) == model.config
    for b, h, w in ((1, 64, 96), (2, 96, 64), (1, 128, 128)):
        inputs = _inputs(model, b, h, w, seed=h + w)
        with torch.no_grad():
            ab, sure = model.ab_norm_and_certainty(*inputs)
            log_probs = model.run(*inputs).float().log_softmax(1)
        got = session.run(None, {n: x.numpy() for n, x in zip(names, inputs)})
        assert [o.name for o in session.get_outputs()] == ["ab_norm", "certainty", "log_probs"][:len(got)]
        assert got[0].shape == (b, 2, h, w) and got[1].shape == (b, 1, h, w)
        assert np.abs(got[0] - ab.numpy()).max() < 1e-3
        assert np.abs(got[1] - sure.numpy()).max() < 1e-3
        if getattr(model, "is_classifier", False):  # the distribution point hints favour before the decode
            assert np.abs(got[2] - log_probs.numpy()).max() < 1e-3
    return session


@pytest.mark.parametrize("name,options", [("lite_unet", {"decoder": [8, 8, 8, 8]}),
                                          ("lite_unet", {"decoder": [8, 8, 8, 8], "equalized": "channel"}),
                                          ("unet", {"width": 8})])
def test_a_tiny_model_in_onnxruntime_equals_pytorch(tmp_path, name, options):
    torch.manual_seed(0)
    model = create_model(name, temperature=0.5, chroma_gain=0.5, **options).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)                   # away from the zero start of the hint inputs
    session = _compare(model, tmp_path / "tiny.onnx")
    config = json.loads(session.get_modelmeta().custom_metadata_map["chromatize_config"])
    assert config["name"] == name and config["temperature"] == 0.5


def test_the_default_exports_with_its_card_and_licence_and_equals_pytorch(tmp_path, capsys):
    out = tmp_path / "default.onnx"
    assert main(["export", "default", str(out)]) == 0
    meta = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert "Apache-2.0" in meta["licence"] and meta["model_card"].startswith("**In short**")
    _compare(load_model(DEFAULT_MODEL), tmp_path / "again.onnx")


def test_export_to_onnx_without_the_extra_names_the_extra(tmp_path, tiny_model_file, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)         # as if the onnx extra were not installed
    assert main(["export", str(tiny_model_file), str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert "chromatize[onnx]" in err and "onnx is missing" in err and len(err.splitlines()) == 1


def test_runtime_onnx_colorizes_as_pytorch_does(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    torch.manual_seed(1)
    path = save_model(create_model("lite_unet", decoder=[8, 8, 8, 8]), tmp_path / "m.safetensors")
    photo = scene(3, size=(96, 64)).convert("L")
    hints = [(20, 30, "#c0392b")]
    by_torch = np.asarray(load(path, size=64).colorize(photo, hints=hints), np.int16)
    by_onnx = np.asarray(load(path, size=64, runtime="onnx").colorize(photo, hints=hints), np.int16)
    diff = np.abs(by_torch - by_onnx)
    assert diff.max() <= 2 and (diff > 1).mean() < 1e-3    # with a point, a few values differ by 2 of 255
    assert list((tmp_path / "cache" / "chromatize").glob("m-*.onnx"))           # exported once, kept
    with pytest.raises(ValueError, match="baked into an ONNX graph"):
        load(path, runtime="onnx", temperature=0.3)
    with pytest.raises(ValueError, match="runtime must be one of"):
        load(path, runtime="tensorrt")


class _Sure(BinColorNet):
    """Logits that are one bin for sure on the left half of the image and flat on the right."""

    multiple = 4

    def forward(self, l_norm):
        b, _, h, w = l_norm.shape
        logits = torch.zeros(b, self.bin_centers.shape[0], h, w)
        logits[:, 7, :, : w // 2] = 100.0
        return logits


def test_confidence_is_white_where_the_model_is_sure_and_black_where_it_guesses(tmp_path):
    colorizer = Colorizer(_Sure(), size=64, device="cpu")
    photo = scene(0, size=(128, 64)).convert("L")
    sure = np.asarray(colorizer.confidence(photo))
    assert sure.shape == (64, 128)
    assert sure[:, :56].min() == 255 and sure[:, 72:].max() == 0


def test_cli_confidence_writes_a_grey_map_beside_each_photo(tmp_path, tiny_model_file, caplog):
    src = tmp_path / "in"
    src.mkdir()
    scene(0, size=(80, 48)).save(src / "a.png")
    assert main(["colorize", str(src), "-o", str(tmp_path / "out"), "--model", str(tiny_model_file),
                 "--confidence", "-q"]) == 0
    sure = Image.open(tmp_path / "out" / "a_confidence.png")
    assert sure.mode == "L" and sure.size == (80, 48)
    assert (tmp_path / "out" / "a.png").exists()
    scene(1, size=(80, 48)).save(src / "a_confidence.png")             # an input with the map's name
    assert main(["colorize", str(src), "-o", str(tmp_path / "out2"), "--model", str(tiny_model_file),
                 "--confidence", "-q"]) == 0
    assert Image.open(tmp_path / "out2" / "a_confidence.png").mode == "RGB"   # its output, not a's map
    assert "a.png: no certainty map" in caplog.text
