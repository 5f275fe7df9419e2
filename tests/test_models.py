import pytest
import torch

from chromatize.models import EnsembleColorizer, create_model, init_from, list_models, load_model, save_model

SMALL = {"unet": {"width": 8}, "ensemble": {"members": [{"name": "unet", "width": 8}, {"name": "unet", "width": 8}]}}


def build(name: str):
    torch.manual_seed(0)
    return create_model(name, **SMALL.get(name, {}))


def test_registry_lists_the_three_architectures():
    assert {"alpha", "beta", "unet"} <= set(list_models())


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="alpha, beta, ensemble, unet"):
        create_model("nope")


def test_bad_option_names_the_model():
    with pytest.raises(ValueError, match="beta"):
        create_model("beta", widht=3)


@pytest.mark.parametrize("name", list_models())
def test_forward_shape_range_and_backward(name):
    model = build(name)
    l_norm = torch.rand(2, 1, 32, 48) * 2 - 1
    ab = model.predict_ab(l_norm)
    assert ab.shape == (2, 2, 32, 48)
    assert torch.isfinite(ab).all() and ab.abs().max() <= 1
    model(l_norm).float().pow(2).mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", list_models())
def test_save_load_gives_identical_output(name, tmp_path):
    model = build(name).eval()
    l_norm = torch.rand(1, 1, 32, 32) * 2 - 1
    path = save_model(model, tmp_path / f"{name}.safetensors")
    loaded = load_model(path)
    assert type(loaded) is type(model)
    assert torch.equal(model.predict_ab(l_norm), loaded.predict_ab(l_norm))


def test_beta_extra_convs_make_it_deeper():
    plain, deep = create_model("beta"), create_model("beta", extra_convs=3)
    convs = lambda m: sum(isinstance(x, torch.nn.Conv2d) for x in m.modules())
    assert convs(deep) == convs(plain) + 3


def test_unet_regression_head_outputs_two_channels():
    model = create_model("unet", width=8, head="regression")
    assert model(torch.zeros(1, 1, 32, 32)).shape[1] == 2
    with pytest.raises(ValueError, match="head"):
        create_model("unet", head="softmax")


def test_unet_annealed_mean_decodes_a_confident_bin_to_its_centre():
    model = create_model("unet", width=8).eval()
    q = model.bin_centers.shape[0]
    logits = torch.full((1, q, 2, 2), -50.0)
    logits[:, 7] = 50.0
    assert torch.allclose(model.to_ab(logits)[0, :, 0, 0], model.bin_centers[7], atol=1e-5)


def test_checkpoint_loads_without_pickle_of_custom_classes(tmp_path):
    model = build("alpha")
    torch.save({"model": model.state_dict(), "model_config": model.config}, tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    x = torch.zeros(1, 1, 16, 16)
    assert torch.equal(loaded(x), model.eval()(x))


def test_missing_config_json_is_a_clear_error(tmp_path):
    path = save_model(build("alpha"), tmp_path / "a.safetensors")
    path.with_suffix(".json").unlink()
    with pytest.raises(FileNotFoundError, match="a.json"):
        load_model(path)


def test_unet_temperature_is_saved_and_sharpens_the_decode(tmp_path):
    model = create_model("unet", width=8).eval()
    logits = torch.randn(1, model.bin_centers.shape[0], 2, 2)
    warm = model.to_ab(logits)
    model.set_temperature(0.05)
    sharp = model.to_ab(logits)
    mode = model.bin_centers[logits.argmax(1)].permute(0, 3, 1, 2)        # (1, 2, 2, 2)
    assert (sharp - mode).abs().mean() < (warm - mode).abs().mean()
    assert load_model(save_model(model, tmp_path / "u.safetensors")).temperature == 0.05
    with pytest.raises(ValueError, match="positive"):
        model.set_temperature(0)



def test_export_stores_the_chosen_decode_knobs(tmp_path, capsys):
    from chromatize.cli import main

    unet = save_model(build("unet"), tmp_path / "u.safetensors")
    out = tmp_path / "shipped.safetensors"
    assert main(["export", str(unet), str(out), "--half", "--temperature", "0.7", "--chroma-gain", "0.3"]) == 0
    shipped = load_model(out)
    assert (shipped.temperature, shipped.chroma_gain) == (0.7, 0.3)
    before = unet.read_bytes()
    assert main(["export", str(unet), str(unet), "--half"]) == 2
    assert "would replace an input" in capsys.readouterr().err and unet.read_bytes() == before
    torch.manual_seed(1)
    other = save_model(create_model("unet", width=8, depth=3), tmp_path / "o.safetensors")
    pair = tmp_path / "pair.safetensors"
    assert main(["export", str(unet), str(other), str(pair), "--temperature", "0.6"]) == 0
    ensemble, first, second = load_model(pair), load_model(unet), load_model(other)
    assert isinstance(ensemble, EnsembleColorizer) and ensemble.temperature == 0.6
    l_norm = torch.rand(1, 1, 32, 32) * 2 - 1
    assert torch.allclose(ensemble(l_norm), (first(l_norm) + second(l_norm)) / 2, atol=1e-6)
    beta = save_model(build("beta"), tmp_path / "b.safetensors")
    assert main(["export", str(beta), str(tmp_path / "b2.safetensors"), "--temperature", "0.7"]) == 2
    assert "classifier head" in capsys.readouterr().err
    assert main(["export", str(unet), str(beta), str(tmp_path / "b3.safetensors")]) == 2
    assert "member 1 (beta) is not a bin classifier" in capsys.readouterr().err


def test_ensemble_members_must_match_and_a_fine_tune_starts_from_the_first(tmp_path):
    with pytest.raises(ValueError, match="at least 2"):
        create_model("ensemble", members=[{"name": "unet", "width": 8}])
    with pytest.raises(ValueError, match="hint inputs"):
        create_model("ensemble", members=[{"name": "unet", "width": 8}, {"name": "unet", "width": 8, "hints": True}])
    ensemble = build("ensemble")
    path = save_model(ensemble, tmp_path / "e.safetensors")
    fresh = create_model("unet", width=8)
    assert init_from(fresh, path) == []
    assert all(torch.equal(v, ensemble.members[0].state_dict()[k]) for k, v in fresh.state_dict().items())

def test_init_from_copies_shared_weights_and_decode_knobs(tmp_path):
    from chromatize.models import init_from
    from chromatize.models._io import ModelFileError

    torch.manual_seed(0)
    source = create_model("unet", width=8, hints=True, temperature=0.5, chroma_gain=0.7)
    path = save_model(source, tmp_path / "source.safetensors")
    target = create_model("unet", width=8, hints=True, hint_pyramid=True)
    fresh = init_from(target, path)
    assert fresh and all(name.startswith("hint_in.") for name in fresh)
    assert torch.equal(target.state_dict()["stem.0.0.weight"], source.state_dict()["stem.0.0.weight"])
    assert (target.temperature, target.chroma_gain) == (0.5, 0.7)
    x, points = torch.rand(1, 1, 32, 32) * 2 - 1, torch.zeros(1, 3, 32, 32)
    points[0, :, 10:13, 10:13] = torch.tensor([0.3, -0.2, 1.0])[:, None, None]
    source.eval(), target.eval()
    assert torch.allclose(source(x, points), target(x, points), atol=1e-5)      # the pyramid starts at zero
    with pytest.raises(ModelFileError, match="source.safetensors: .* has shape"):
        init_from(create_model("unet", width=16, hints=True), path)


def test_bottleneck_attention_mixes_distant_cells_and_round_trips(tmp_path):
    from chromatize.models.unet import BottleneckAttention

    torch.manual_seed(0)
    block = BottleneckAttention(16).eval()
    x = torch.randn(1, 16, 8, 8)
    moved = x.clone()
    moved[0, :, 7, 7] += 3.0                                      # change only the far corner cell
    out, out_moved = block(x), block(moved)
    assert (out_moved[0, :, 0, 0] - out[0, :, 0, 0]).abs().max() > 1e-3    # the opposite corner feels it
    model = create_model("unet", width=8, depth=1, attention=1).eval()
    loaded = load_model(save_model(model, tmp_path / "a.safetensors")).eval()
    assert loaded.config["attention"] == 1
    l_norm = torch.rand(1, 1, 64, 48) * 2 - 1
    assert torch.allclose(loaded(l_norm), model(l_norm), atol=1e-5)
    with pytest.raises(ValueError, match="attention"):
        create_model("unet", attention=-1)
