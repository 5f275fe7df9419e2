"""The ensemble model (models/ensemble.py): mean log-probabilities, export of several models, the
first member for video frames and fine-tunes."""
import pytest
import torch

from chromatize.inference import colorizer as inference
from chromatize.cli import main
from chromatize.inference import Colorizer
from chromatize.models import create_model, init_from, load_model, save_model
from chromatize.models.ensemble import EnsembleColorizer


def members() -> list:
    torch.manual_seed(0)
    return [create_model("unet", width=8, hints=True).eval(), create_model("unet", width=4, hints=True).eval()]


def test_forward_is_the_mean_of_the_members_log_probabilities():
    first, second = members()
    ensemble = EnsembleColorizer.of([first, second])
    l_norm = torch.rand(1, 1, 32, 32) * 2 - 1
    points = torch.zeros(1, 3, 32, 32)
    points[:, :, 8, 8] = torch.tensor([0.4, -0.3, 1.0])
    with torch.no_grad():
        expected = (first(l_norm, points).log_softmax(1) + second(l_norm, points).log_softmax(1)) / 2
        out = ensemble(l_norm, points)
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out.log_softmax(1), first(l_norm, points).log_softmax(1), atol=1e-3)
    assert ensemble.takes_hints and ensemble.temperature == first.temperature


def test_members_must_share_bins_and_be_classifiers():
    with pytest.raises(ValueError, match="at least 2"):
        create_model("ensemble", members=[{"name": "unet", "width": 4}])
    with pytest.raises(ValueError, match="ab bins or hint inputs"):
        create_model("ensemble", members=[{"name": "unet", "width": 4}, {"name": "unet", "width": 4, "bin_step": 20}])
    with pytest.raises(ValueError, match="not a bin classifier"):
        create_model("ensemble", members=[{"name": "unet", "width": 4}, {"name": "beta"}])


def test_export_of_two_models_is_one_ensemble_with_the_chosen_knobs(tmp_path, capsys):
    first, second = members()
    a = save_model(first, tmp_path / "a.safetensors")
    b = save_model(second, tmp_path / "b.safetensors")
    out = tmp_path / "both.safetensors"
    assert main(["export", str(a), str(b), str(out), "--half", "--temperature", "0.55", "--chroma-gain", "0.08"]) == 0
    both = load_model(out)
    assert isinstance(both, EnsembleColorizer) and (both.temperature, both.chroma_gain) == (0.55, 0.08)
    l_norm = torch.rand(1, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        expected = EnsembleColorizer.of([first, second])(l_norm)
        torch.testing.assert_close(both(l_norm), expected, atol=0.02, rtol=0)     # float16 weights
    beta = save_model(create_model("beta"), tmp_path / "beta.safetensors")
    assert main(["export", str(a), str(beta), str(tmp_path / "x.safetensors")]) == 2
    assert "not a bin classifier" in capsys.readouterr().err


def test_a_fine_tune_from_an_ensemble_starts_from_its_first_member(tmp_path):
    first, second = members()
    path = save_model(EnsembleColorizer.of([first, second]), tmp_path / "both.safetensors")
    torch.manual_seed(1)
    student = create_model("unet", width=8, hints=True)
    assert init_from(student, path) == []
    for name, tensor in first.state_dict().items():
        assert torch.equal(student.state_dict()[name], tensor), name


def test_frames_run_the_first_member_where_bf16_is_slow(monkeypatch):
    first, second = members()
    colorizer = Colorizer(EnsembleColorizer.of([first, second]), device="cpu")
    monkeypatch.setattr(inference, "cpu_has_fast_bf16", lambda: False)
    fast = colorizer.for_frames()
    assert fast.model is colorizer.model.members[0] and fast.size == colorizer.size
    assert isinstance(colorizer.model, EnsembleColorizer)                   # the photo colorizer keeps both
    monkeypatch.setattr(inference, "cpu_has_fast_bf16", lambda: True)
    assert colorizer.for_frames() is colorizer
    single = Colorizer(first, device="cpu")
    monkeypatch.setattr(inference, "cpu_has_fast_bf16", lambda: False)
    assert single.for_frames() is single


def test_decode_knobs_given_to_load_reach_the_member_that_runs_frames(tmp_path, monkeypatch):
    first, second = members()
    both = EnsembleColorizer.of([first, second])
    both.set_temperature(0.7)                            # the ensemble's own knob, not its members'
    path = save_model(both, tmp_path / "both.safetensors")
    monkeypatch.setattr(inference, "cpu_has_fast_bf16", lambda: False)
    loaded = inference.load(path, device="cpu")
    assert loaded.model.temperature == 0.7 and loaded.for_frames().model.temperature == first.temperature != 0.7
    chosen = inference.load(path, device="cpu", temperature=0.3, chroma_gain=0.2)
    assert (chosen.model.temperature, chosen.model.chroma_gain) == (0.3, 0.2)
    assert (chosen.for_frames().model.temperature, chosen.for_frames().model.chroma_gain) == (0.3, 0.2)


def test_an_ensemble_takes_its_decode_knobs_from_its_first_member():
    first = create_model("unet", width=8, hints=True, temperature=0.3, chroma_gain=0.2)
    second = create_model("unet", width=4, hints=True, temperature=0.9, chroma_gain=0.0)
    ensemble = EnsembleColorizer.of([first, second])
    assert (ensemble.temperature, ensemble.chroma_gain) == (0.3, 0.2)
    swapped = EnsembleColorizer.of([second, first])
    assert (swapped.temperature, swapped.chroma_gain) == (0.9, 0.0)
