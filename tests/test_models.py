import pytest
import torch

from chromatize.models import create_model, list_models, load_model, save_model

SMALL = {"unet": {"width": 8}, "lite_unet": {"decoder": [8, 8, 8, 8]},
         "ensemble": {"members": [{"name": "unet", "width": 8, "hints": True},
                                  {"name": "unet", "width": 4, "hints": True}]}}


def build(name: str):
    torch.manual_seed(0)
    return create_model(name, **SMALL.get(name, {}))


def test_registry_lists_the_architectures():
    assert {"alpha", "beta", "lite_unet", "unet"} <= set(list_models())


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="alpha, beta, ensemble, lite_unet, unet"):
        create_model("nope")


def test_bad_option_names_the_model():
    with pytest.raises(ValueError, match="beta"):
        create_model("beta", widht=3)


@pytest.mark.parametrize("name", list_models())
def test_forward_shape_range_and_backward(name):
    model = build(name)
    l_norm = torch.rand(2, 1, 32, 64) * 2 - 1
    ab = model.ab_norm(l_norm)
    assert ab.shape == (2, 2, 32, 64)
    assert torch.isfinite(ab).all() and ab.abs().max() <= 1
    out = model(l_norm)                          # training: hint-logit models give (logits, the head's own)
    sum(o.float().pow(2).mean() for o in (out if isinstance(out, tuple) else (out,))).backward()
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
    assert torch.equal(model.ab_norm(l_norm), loaded.ab_norm(l_norm))


def test_beta_extra_convs_make_it_deeper():
    plain, deep = create_model("beta"), create_model("beta", extra_convs=3)
    convs = lambda m: sum(isinstance(x, torch.nn.Conv2d) for x in m.modules())
    assert convs(deep) == convs(plain) + 3


def test_bin_models_have_the_classification_head_alone():
    model = create_model("unet", width=8, head="classification")                # as saved configs name it
    assert model(torch.zeros(1, 1, 32, 32)).shape[1] == model.bin_centers.shape[0] and model.is_classifier
    for head in ("regression", "softmax"):
        with pytest.raises(ValueError, match="head must be 'classification'"):
            create_model("unet", head=head)


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
    beta = save_model(build("beta"), tmp_path / "b.safetensors")
    assert main(["export", str(beta), str(tmp_path / "b2.safetensors"), "--temperature", "0.7"]) == 2
    assert "classifier head" in capsys.readouterr().err


def test_init_from_copies_shared_weights_and_decode_knobs(tmp_path):
    from chromatize.models import init_from
    from chromatize.models._io import ModelFileError

    torch.manual_seed(0)
    source = create_model("unet", width=8, depth=2, temperature=0.5, chroma_gain=0.7)
    path = save_model(source, tmp_path / "source.safetensors")
    target = create_model("unet", width=8, depth=3)
    fresh = init_from(target, path)
    assert fresh and all(name.startswith("down3.3.") for name in fresh)      # the layer the source lacks
    assert torch.equal(target.state_dict()["stem.0.0.weight"], source.state_dict()["stem.0.0.weight"])
    assert (target.temperature, target.chroma_gain) == (0.5, 0.7)
    with pytest.raises(ModelFileError, match="source.safetensors: .* has shape"):
        init_from(create_model("unet", width=16), path)


def test_chroma_gain_scales_the_decoded_colour_by_certainty_to_the_power_k():
    import math

    model = create_model("unet", width=8, temperature=1.0, chroma_gain=2.0).eval()
    q = model.bin_centers.shape[0]
    logits = torch.full((1, q, 1, 1), -1e4)
    logits[0, [3, 40], 0, 0] = 0.0                                  # two bins, even odds: entropy log 2
    certainty = 1 - math.log(2) / math.log(q)
    mean = (model.bin_centers[3] + model.bin_centers[40]) / 2
    assert torch.allclose(model.to_ab(logits)[0, :, 0, 0], mean * certainty**2, atol=1e-5)
    model.set_chroma_gain(0.0)
    assert torch.allclose(model.to_ab(logits)[0, :, 0, 0], mean, atol=1e-5)


def test_load_and_evaluate_apply_the_decode_knobs_they_are_given(tmp_path, capsys):
    import numpy as np
    from conftest import scene

    from chromatize.cli import main
    from chromatize.inference import load

    torch.manual_seed(0)
    path = save_model(create_model("unet", width=8), tmp_path / "u.safetensors")
    photo = scene(0, size=(64, 48)).convert("L")
    chroma = lambda img: float(np.abs(np.asarray(img.convert("YCbCr"), np.float32)[..., 1:] - 128).mean())
    held, free = load(path, size=64, chroma_gain=6.0), load(path, size=64, chroma_gain=0.0)
    assert (held.model.chroma_gain, free.model.chroma_gain) == (6.0, 0.0)
    assert chroma(held.colorize(photo)) < chroma(free.colorize(photo)) - 1     # unsure colour is held back
    sharp = load(path, size=64, temperature=0.05)
    assert sharp.model.temperature == 0.05
    assert not np.array_equal(np.asarray(sharp.colorize(photo)), np.asarray(free.colorize(photo)))
    folder = tmp_path / "photos"
    folder.mkdir()
    scene(1, size=(64, 48)).save(folder / "a.png")
    cf = []
    for gain in ("0", "6"):
        assert main(["evaluate", str(folder), "--model", str(path), "--size", "64", "--chroma-gain", gain, "-q"]) == 0
        row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("u ")][0].split()
        cf.append(float(row[8]))                                  # the colourfulness column
    assert cf[1] < cf[0]


def test_lite_unet_hints_entering_at_coarse_scales_reach_far_cells():
    """A point pooled into the 1/32 and 1/16 stages changes colour far from it, even with the hint
    spread (which reaches wherever the features match) switched off: its "no hint" weight made
    overwhelming. (Entering at 1/4 alone it did not: that variant lost, BENCHMARKS.md.)"""
    torch.manual_seed(0)
    l_norm = torch.rand(1, 1, 128, 128) * 2 - 1
    points = torch.zeros(1, 3, 128, 128)
    points[0, :2, :9, :9] = torch.tensor([0.8, -0.6])[:, None, None]
    points[0, 2, :9, :9] = 1
    far = (slice(None), slice(None), slice(12, 20))                        # 1/4 cells 48-80 px below the point
    torch.manual_seed(1)
    model = create_model("lite_unet", decoder=[8, 8, 8, 8]).eval()
    with torch.no_grad():
        model.spread.no_hint.fill_(1e4)
        moved = (model(l_norm, points) - model(l_norm))[far].abs().max().item()
    assert moved > 1e-6                                                   # small at initialisation, but there


def test_lite_unet_reads_saved_configs_that_name_its_retired_options():
    kept = create_model("lite_unet", decoder=[8, 8, 8, 8], hint_scales=[4, 8, 16, 32], hint_logits=True)
    assert "hint_scales" not in kept.config and "hint_logits" not in kept.config
    with pytest.raises(ValueError, match="hint_scales is \\[4, 8, 16, 32\\] since"):
        create_model("lite_unet", hint_scales=[4])
    with pytest.raises(ValueError, match="hint_logits is True since"):
        create_model("lite_unet", hint_logits=False)
    with pytest.raises(ValueError, match="no option 'colour'"):
        create_model("lite_unet", colour=1)


@pytest.mark.parametrize("decoder", [[8, 8, 8], [8, 8, 8, 0]])
def test_lite_unet_refuses_a_decoder_of_the_wrong_length_or_width(decoder):
    with pytest.raises(ValueError, match="decoder must be 4 channel counts"):
        create_model("lite_unet", decoder=decoder)


def test_init_from_leaves_the_decode_knobs_named_in_keep(tmp_path):
    from chromatize.models import init_from

    source = create_model("unet", width=8, temperature=0.5, chroma_gain=0.7)
    target = create_model("unet", width=8, temperature=0.2, chroma_gain=0.1)
    init_from(target, save_model(source, tmp_path / "s.safetensors"), keep=("temperature",))
    assert (target.temperature, target.chroma_gain) == (0.2, 0.7)


def test_files_that_are_not_models_say_what_is_wrong(tmp_path):
    from chromatize.models._io import ModelFileError, model_from_config

    with pytest.raises(ModelFileError, match="^cfg.json: the model config has no 'name'"):
        model_from_config({"width": 8}, source="cfg.json")
    torch.save({"weights": {}}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match=r"other.pt: not a chromatize checkpoint \(no model and model_config"):
        load_model(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint\nsecond line")
    with pytest.raises(Exception) as loader:                  # what torch itself says about the file
        torch.load(tmp_path / "junk.pt", weights_only=True)
    first_line = str(loader.value).splitlines()[0]
    with pytest.raises(ModelFileError, match=r"junk.pt: not a chromatize checkpoint \(\w+Error: ") as err:
        load_model(tmp_path / "junk.pt")
    assert first_line[:60] in str(err.value)


def test_weights_missing_from_a_model_file_are_named(tmp_path):
    from safetensors.torch import load_file, save_file

    from chromatize.models._io import ModelFileError

    path = save_model(build("alpha"), tmp_path / "a.safetensors")
    weights = load_file(path)
    first, *_ = sorted(weights)
    del weights[first], weights[sorted(weights)[-1]]
    save_file(weights, path)
    with pytest.raises(ModelFileError, match=rf"weights for {first} \(and 1 more\) are missing"):
        load_model(path)


def test_a_model_without_hints_refuses_points_alone_and_a_reference_alone():
    model = build("alpha")
    l = torch.zeros(1, 1, 16, 16)
    with pytest.raises(ValueError, match="not trained with hints"):
        model.run(l, torch.zeros(1, 3, 16, 16), None)
    with pytest.raises(ValueError, match="not trained with hints"):
        model.run(l, None, torch.zeros(1, 10))


def test_negative_chroma_gain_is_refused_with_its_value():
    with pytest.raises(ValueError, match="chroma_gain must be >= 0, got -1"):
        create_model("unet", width=8, chroma_gain=-1)
    with pytest.raises(ValueError, match="chroma_gain must be >= 0, got -0.5"):
        create_model("unet", width=8).set_chroma_gain(-0.5)


def test_conv_relu_has_a_bias_only_without_batchnorm():
    from chromatize.models._layers import conv_relu

    assert conv_relu(3, 4)[0].bias is not None
    assert conv_relu(3, 4, norm=True)[0].bias is None


def test_alpha_stages_have_the_documented_shapes():
    model = build("alpha").eval()
    shapes = []
    for layer in model.net:
        layer.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
    model(torch.zeros(1, 1, 32, 48))
    h, w = 32, 48
    assert shapes[1] == (8, h // 2, w // 2) and shapes[3] == (16, h // 4, w // 4)
    assert shapes[5] == (32, h // 8, w // 8) and shapes[-1] == (2, h, w)


def test_resolve_names_the_shipped_model_and_what_a_folder_lacks(tmp_path):
    from chromatize.models.files import DEFAULT_MODEL, RUN_WEIGHTS, resolve

    assert resolve("default") == DEFAULT_MODEL and DEFAULT_MODEL.exists()
    with pytest.raises(FileNotFoundError) as err:
        resolve(tmp_path)
    assert all(name in str(err.value) for name in RUN_WEIGHTS)


@pytest.mark.parametrize("name, options", [("unet", {"width": 8, "hints": True}), ("lite_unet", {"decoder": [16, 8, 8, 8]})])
def test_every_decoder_conv_is_batch_normalised(name, options):
    model = create_model(name, **options)
    blocks = [m for m in model.modules() if isinstance(m, torch.nn.Sequential) and isinstance(m[0], torch.nn.Conv2d)
              and isinstance(m[-1], torch.nn.ReLU)]
    assert len(blocks) >= 6
    assert all(isinstance(block[1], torch.nn.BatchNorm2d) and block[0].bias is None for block in blocks)


def test_lite_unet_pools_points_to_their_mean_colour_and_share():
    from chromatize.models.lite_unet import _pooled_points

    points = torch.zeros(1, 3, 8, 8)
    points[0, 0, 0:2, 0:2], points[0, 1, 0:2, 0:2], points[0, 2, 0:2, 0:2] = 0.5, -0.25, 1
    pooled = _pooled_points(points, 4)                        # 4x4 cells: the top-left one holds 4 of 16 pixels
    assert torch.allclose(pooled[0, :, 0, 0], torch.tensor([0.5, -0.25, 0.25]))
    assert torch.equal(pooled[0, :, 1, 1], torch.zeros(3))


def identity_spread():
    """A HintSpread over 4 feature channels whose projection is the identity: similarity = the features' cosine."""
    from chromatize.models.lite_unet import HintSpread

    spread = HintSpread(4, dim=4)
    with torch.no_grad():
        spread.project.weight.copy_(torch.eye(4)[:, :, None, None])
        spread.project.bias.zero_()
    return spread


def test_hint_spread_carries_a_point_over_cells_that_look_like_it_and_not_others():
    spread = identity_spread()
    features = torch.zeros(1, 4, 4, 6)
    features[0, 0, :, :3], features[0, 0, :, 3:] = 1, -1            # left half one thing, right half its opposite
    pooled = torch.zeros(1, 3, 4, 6)
    pooled[0, :, 1, 1] = torch.tensor([0.4, -0.2, 1.0])              # one fully hinted cell on the left
    out = spread(features, pooled)[0]
    assert (out[2, :, :3] > 0.99).all() and (out[2, :, 3:] < 0.01).all()
    assert torch.allclose(out[:2, :, :3], torch.tensor([0.4, -0.2])[:, None, None].expand(2, 4, 3), atol=1e-4)
    assert torch.equal(spread(features, torch.zeros(1, 3, 4, 6)), torch.zeros(1, 3, 4, 6))


def test_hint_spread_weighs_hinted_cells_by_their_hinted_share():
    spread = identity_spread()
    features = torch.zeros(1, 4, 2, 2)
    features[0, 0] = 1                                                 # every cell alike
    pooled = torch.zeros(1, 3, 2, 2)
    pooled[0, :, 0, 0] = torch.tensor([0.5, 0.0, 1.0])                  # a fully hinted cell
    pooled[0, :, 1, 1] = torch.tensor([-0.5, 0.0, 0.25])                # a quarter-hinted one
    out = spread(features, pooled)[0]
    assert torch.allclose(out[0], torch.full((2, 2), (0.5 * 1 - 0.5 * 0.25) / 1.25), atol=1e-3)


def test_equalized_lightness_ignores_an_increasing_tone_curve_and_keeps_flat_areas_flat():
    from chromatize.models.lite_unet import equalized_l
    torch.manual_seed(0)
    l = torch.rand(2, 1, 48, 64) * 60 + 20
    faded = 10 + 0.8 * 100 * (l / 100) ** 1.7                  # gamma, lifted blacks, lowered whites
    same, clean = equalized_l(faded), equalized_l(l)
    assert (same - clean).abs().max() < 1.5                      # within the bins' piecewise-linear steps
    assert clean.min() >= 0 and clean.max() <= 100 and clean.max() - clean.min() > 95     # spread over the range
    ranks = l[0].flatten().argsort()
    assert (clean[0].flatten()[ranks].diff() >= 0).all()         # order kept within an image
    flat = torch.full((1, 1, 16, 16), 40.0)
    assert equalized_l(flat).unique().numel() == 1


def test_lite_unet_equalized_takes_every_weight_of_a_plain_model_and_keeps_its_option_in_the_file(tmp_path):
    from chromatize.models._io import init_from
    torch.manual_seed(0)
    plain = create_model("lite_unet", decoder=[8, 8, 8, 8]).eval()
    path = save_model(plain, tmp_path / "plain.safetensors")
    model = create_model("lite_unet", decoder=[8, 8, 8, 8], equalized="channel").eval()
    assert init_from(model, path) == []                           # the same layers: only the input differs
    l_norm = torch.rand(1, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        assert not torch.allclose(model(l_norm), plain(l_norm))
        loaded = load_model(save_model(model, tmp_path / "eq.safetensors"))
        assert loaded.config["equalized"] == "channel" and torch.equal(loaded(l_norm), model(l_norm))


def test_lite_unet_equalized_channel_feeds_the_encoder_a_tone_blind_third_channel_and_bad_values_are_refused():
    torch.manual_seed(0)
    model = create_model("lite_unet", decoder=[8, 8, 8, 8], equalized="channel").eval()
    seen = []
    model.encoder.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    l_norm = torch.rand(1, 1, 64, 64) * 1.2 - 0.8
    with torch.no_grad():
        model(l_norm)
        model(0.5 * l_norm + 0.3)                                   # the same photo, faded and lightened
    assert not torch.allclose(seen[0][:, 0], seen[1][:, 0])        # the grey channels follow the tones
    assert (seen[0][:, 2] - seen[1][:, 2]).abs().max() < 0.05      # the equalized one hardly moves
    with pytest.raises(ValueError, match="equalized must be one of"):
        create_model("lite_unet", equalized="blue")
