"""inference/colorizer.py piece by piece: array input, the model's input size, the ONNX route, defaults,
the reference palette and the errors that name what is missing."""
import numpy as np
import pytest
import torch
from conftest import scene

from chromatize.inference import colorizer as inference
from chromatize.color import normalize_ab, normalize_l, rgb_to_lab
from chromatize.models.hint_inputs import reference_vector
from chromatize.inference.colorizer import Colorizer, _as_pil, load, load_network
from chromatize.models import create_model, load_model
from chromatize.models.files import DEFAULT_MODEL


def tiny(hints: bool = False):
    torch.manual_seed(0)
    return create_model("unet", width=8, hints=hints)


def test_float_arrays_are_read_as_0_to_1_and_clipped():
    arr = np.array([[0.0, 0.5, 1.5, -0.2]], dtype=np.float32)
    assert np.asarray(_as_pil(arr)).tolist() == [[0, 128, 255, 0]]


@pytest.mark.parametrize("shape, expected", [((100, 300), (80, 256)), ((300, 100), (256, 80)),
                                             ((50, 70), (176, 256)), ((10, 1000), (16, 256)), ((256, 256), (256, 256))])
def test_model_shape_is_long_side_size_in_multiples_of_the_stride(shape, expected):
    colorizer = Colorizer(tiny(), size=256, device="cpu")
    assert colorizer.model.multiple == 16                   # the expected shapes are worked out for 16
    assert colorizer.model_shape(*shape) == expected


def test_default_colorizer_runs_on_the_cpu_and_applies_the_model_as_it_is():
    model = tiny()
    colorizer = Colorizer(model)
    assert colorizer.device.type == "cpu"
    l_full = torch.rand(1, 1, 40, 56) * 100
    small, ab = colorizer.predict_frames(l_full)
    with torch.no_grad():
        direct = model.ab_norm(normalize_l(small))
    # channels-last kernels sum in another order on some CPUs: 1e-3 is 0.13 a,b units
    assert torch.allclose(ab, direct, atol=1e-3)


class FakeOnnx(torch.nn.Module):
    multiple = 32
    is_classifier = takes_hints = False         # what every network says of itself (models._layers.ColorNet)

    def __init__(self, path):
        super().__init__()
        self.path = path


def test_an_onnx_file_is_run_by_onnxruntime_with_the_size_asked(tmp_path, monkeypatch):
    graph = tmp_path / "m.onnx"
    graph.write_bytes(b"")
    monkeypatch.setattr(inference, "OnnxNetwork", FakeOnnx)
    colorizer = load(graph, size=128)
    assert isinstance(colorizer.model, FakeOnnx) and colorizer.model.path == graph and colorizer.size == 128
    with pytest.raises(ValueError, match="baked into an ONNX graph"):
        load(graph, temperature=0.5)
    with pytest.raises(ValueError, match="onnx runtime runs on the CPU here, not on 'cuda'"):
        load(graph, device="cuda")


def test_load_network_with_no_model_named_is_the_shipped_model():
    assert load_network().config == load_model(DEFAULT_MODEL).config


def test_a_reference_palette_is_read_from_its_0_255_colours():
    colorizer = Colorizer(tiny(hints=True), device="cpu")
    rgb = np.asarray(scene(4))
    expected = reference_vector(normalize_ab(rgb_to_lab(torch.from_numpy(rgb / 255).permute(2, 0, 1)[None].float())[:, 1:]),
                                colorizer.model.bin_centers)
    assert torch.allclose(colorizer.reference_hint(rgb), expected, atol=1e-6)


def test_hints_on_a_model_without_them_are_an_error_that_says_which():
    colorizer = Colorizer(tiny(), device="cpu")
    with pytest.raises(ValueError, match="^a reference photo need a model trained with hints"):
        colorizer.reference_hint(np.asarray(scene(1)))
    with pytest.raises(ValueError, match="^colour hints need a model trained with hints"):
        colorizer.point_hints(torch.zeros(1, 1, 40, 48), [(3, 4, "#ff0000")])


def test_load_passes_its_knobs_on_and_a_colorizer_made_by_hand_calls_its_model_custom(tmp_path):
    from chromatize.models import save_model

    torch.manual_seed(0)
    path = save_model(create_model("unet", width=8, hints=True), tmp_path / "m" / "model.safetensors")
    loaded = load(path, propagate=False, skin=False, size=64, batch_size=3)
    assert (loaded.propagate, loaded.size, loaded.batch_size) == (False, 64, 3)
    assert load(path).propagate is True
    assert loaded.software.endswith("(model model.safetensors)")
    assert Colorizer(create_model("unet", width=8), size=64).software.endswith("(model custom)")


def test_a_one_channel_array_is_a_grey_image_and_other_things_are_named_in_the_error():
    assert _as_pil(np.zeros((4, 5, 1), np.uint8)).mode == "L"
    with pytest.raises(TypeError, match="got int"):
        _as_pil(3)


def test_colorize_to_file_takes_the_hints_and_the_reference_and_marks_the_file(tmp_path):
    from PIL import Image

    torch.manual_seed(0)
    colorizer = Colorizer(create_model("unet", width=8, hints=True), size=64, device="cpu")
    photo = scene(3, size=(64, 48)).convert("L")
    reference = scene(9, size=(32, 32))
    hints = [(10, 10, "#e61414")]
    out = colorizer.colorize_to_file(photo, tmp_path / "o.png", hints=hints, reference=reference)
    expected = np.asarray(colorizer.colorize(photo, hints=hints, reference=reference))
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), expected)
    assert not np.array_equal(expected, np.asarray(colorizer.colorize(photo, reference=reference)))
    assert not np.array_equal(expected, np.asarray(colorizer.colorize(photo, hints=hints)))
    assert Image.open(out).getexif()[0x0131] == colorizer.software


def test_a_folder_without_a_model_and_an_export_to_another_suffix_say_so(tmp_path):
    from chromatize.models.export import export
    from chromatize.models.files import RUN_WEIGHTS, resolve

    names = f"{', '.join(RUN_WEIGHTS[:-1])} or {RUN_WEIGHTS[-1]}"
    with pytest.raises(FileNotFoundError, match=f"no {names} in this folder"):
        resolve(tmp_path)
    with pytest.raises(ValueError, match=r"model.pt: the output must end in .safetensors or .onnx"):
        export(["default"], tmp_path / "model.pt")
