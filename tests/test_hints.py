"""Colour hints and references: encoding, simulation, the hint model, the API and the CLI."""
from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import scene
from PIL import Image

from chromatize.cli import main
from chromatize.color import ab_bin_centers, normalize_ab, rgb_to_lab
from chromatize.degrade import degrade_l
from chromatize.inference.points import Point, parse_color, point_maps
from chromatize.models.hint_inputs import reference_vector
from chromatize.training.simulated_hints import simulate_points
from chromatize.images import ImageError
from chromatize.inference import Colorizer
from chromatize.models import create_model, save_model

CENTERS = ab_bin_centers() / 128


@pytest.fixture
def hint_colorizer():
    torch.manual_seed(0)
    return Colorizer(create_model("unet", width=8, hints=True), size=64, device="cpu")


@pytest.fixture
def hint_model_file(tmp_path):
    torch.manual_seed(0)
    return save_model(create_model("unet", width=8, hints=True), tmp_path / "hinty" / "model.safetensors")


def test_parse_color_accepts_hex_and_tuples_and_names_bad_ones():
    assert parse_color("#c0392b") == (192, 57, 43) == parse_color("C0392B") == parse_color((192, 57, 43))
    for bad in ("#c0392", "red", (1, 2), (0, 0, 256), (1.5, 2, 3), None):
        with pytest.raises(ValueError, match="colou?r"):
            parse_color(bad)


def test_point_maps_put_the_colour_and_mask_at_the_scaled_position():
    maps = point_maps([Point(199, 0, (255, 0, 0))], full=(100, 200), small=(16, 32), patch=3)
    assert maps.shape == (1, 3, 16, 32)
    mask = maps[0, 2]
    assert mask.sum() == 4 and mask[0, 31] == 1 and mask[0, 30] == 1 and mask[1, 31] == 1   # 3x3 cut by the corner
    red_ab = normalize_ab(rgb_to_lab(torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1))[0, 1:, 0, 0])
    assert torch.allclose(maps[0, :2, 0, 31], red_ab)
    assert maps[0, :2][:, mask == 0].abs().max() == 0
    grey = point_maps([Point(5, 5, (128, 128, 128))], full=(10, 10), small=(10, 10))
    assert grey[0, 2].sum() == 9 and grey[0, :2].abs().max() < 1e-3    # grey hint: mask 1, ab 0


def test_reference_vector_is_a_histogram_with_chroma_and_flag():
    ab = normalize_ab(rgb_to_lab(torch.tensor(np.asarray(scene(1), np.float32) / 255).permute(2, 0, 1)[None])[:, 1:])
    vec = reference_vector(ab, CENTERS)
    q = CENTERS.shape[0]
    assert vec.shape == (1, q + 2)
    assert math.isclose(float(vec[0, :q].sum()), 1.0, rel_tol=1e-5) and vec[0, q + 1] == 1
    assert vec[0, q] == pytest.approx(float(torch.nn.functional.avg_pool2d(ab, 4).norm(dim=1).mean()), rel=1e-4)


def test_simulated_points_follow_the_truth_and_the_geometric_count():
    g = torch.Generator().manual_seed(0)
    ab = torch.rand(400, 2, 24, 24) * 0.4 - 0.2
    points = simulate_points(ab, g)
    mask = points[:, 2]
    assert ((points[:, :2] != 0).any(1) <= (mask == 1)).all()              # colour only where the mask is
    none = float((mask.flatten(1).sum(1) == 0).float().mean())
    assert 0.06 < none < 0.2                                               # about 1 image in 8 gets no point
    one = torch.zeros(1, 2, 9, 9)
    one[0, :, 2:5, 2:5] = 0.3
    single = simulate_points(one.expand(50, -1, -1, -1).contiguous(), torch.Generator().manual_seed(1))
    values = single[:, :2][single[:, 2:3].expand(-1, 2, -1, -1) == 1]
    assert values.min() >= 0 and values.max() <= 0.3 + 1e-6                # patch means of the truth


def test_hint_model_runs_with_and_without_hints_and_zero_hints_mean_none(hint_colorizer):
    model = hint_colorizer.model
    l_norm = torch.rand(2, 1, 32, 32) * 2 - 1
    q = model.bin_centers.shape[0]
    plain = model.ab_norm(l_norm)
    zeros = model.ab_norm(l_norm, torch.zeros(2, 3, 32, 32), torch.zeros(2, q + 2))
    assert torch.equal(plain, zeros)
    maps = point_maps([Point.make(3, 3, "#ff0000")], (32, 32), (32, 32)).expand(2, -1, -1, -1)
    hinted = model.ab_norm(l_norm, maps)
    assert plain.shape == hinted.shape == (2, 2, 32, 32) and not torch.equal(plain, hinted)
    palette = reference_vector(torch.rand(2, 2, 32, 32) * 0.5 - 0.25, model.bin_centers)
    assert not torch.equal(plain, model.ab_norm(l_norm, None, palette))


def test_colorize_takes_hints_and_a_reference(hint_colorizer, tmp_path):
    img = scene(2, size=(90, 60)).convert("L")
    plain = np.asarray(hint_colorizer.colorize(img))
    hinted = hint_colorizer.colorize(img, hints=[(10, 20, "#c0392b"), (80, 50, (46, 134, 193))])
    ref_path = tmp_path / "ref.png"
    scene(5).save(ref_path)
    palettes = [hint_colorizer.reference_hint(r)
                for r in (ref_path, str(ref_path), Image.open(ref_path), np.asarray(Image.open(ref_path)))]
    assert all(torch.equal(p, palettes[0]) for p in palettes) and palettes[0][0, -1] == 1
    assert hint_colorizer.colorize(img, reference=ref_path).size == img.size
    assert hinted.size == img.size and plain.shape == (60, 90, 3)
    red_at = lambda rgb: int(rgb[20, 10, 0]) - int(rgb[20, 10, 1])      # the red point's pixel: R - G
    assert red_at(np.asarray(hinted)) > red_at(plain) + 10              # colorize passes the points on
    from chromatize.images import to_lightness

    l_full = to_lightness(img).l_full
    points = hint_colorizer.point_hints(l_full, [(10, 20, "#c0392b")])
    assert points.shape[-2:] == hint_colorizer.model_shape(60, 90) and points[0, 2].sum() == 9
    [with_hint] = hint_colorizer.ab_norm_small([l_full], points=[points])
    [without] = hint_colorizer.ab_norm_small([l_full])
    assert not torch.equal(with_hint, without)


def test_bad_hints_and_references_are_one_line_errors(hint_colorizer, tiny_model_file, tmp_path):
    img = scene(2, size=(90, 60))
    with pytest.raises(ValueError, match=r"hint at \(90, 5\) is outside the 90x60 image"):
        hint_colorizer.colorize(img, hints=[(90, 5, "#ffffff")])
    with pytest.raises(ValueError, match="not #rrggbb"):
        hint_colorizer.colorize(img, hints=[(1, 5, "#fffff")])
    with pytest.raises(ValueError, match="not \\(x, y, colour\\)"):
        hint_colorizer.colorize(img, hints=[(1, 5)])
    (tmp_path / "junk.jpg").write_bytes(b"not a photo")
    with pytest.raises(ImageError, match="junk.jpg"):
        hint_colorizer.colorize(img, reference=tmp_path / "junk.jpg")
    plain = Colorizer(create_model("unet", width=8), size=64, device="cpu")
    with pytest.raises(ValueError, match="trained with hints"):
        plain.colorize(img, hints=[(1, 1, "#ffffff")])


def test_cli_hints_and_reference(tmp_path, hint_model_file, tiny_model_file, capsys):
    photo = tmp_path / "p.png"
    scene(3, size=(80, 64)).convert("L").save(photo)
    hints_file = tmp_path / "hints.json"
    hints_file.write_text(json.dumps([{"x": 5, "y": 6, "color": "#2e86c1"}]))
    ref = tmp_path / "ref.jpg"
    scene(4).save(ref)
    out = tmp_path / "out"
    args = ["colorize", str(photo), "-o", str(out), "--model", str(hint_model_file), "--size", "64", "-q"]
    assert main(args + ["--hint", "10,20,#c0392b", "--hints", str(hints_file), "--reference", str(ref)]) == 0
    assert Image.open(out / "p.png").size == (80, 64)
    capsys.readouterr()
    for extra, message in ((["--hint", "10,#c0392b"], "expected X,Y,#rrggbb"),
                           (["--hint", "500,20,#c0392b"], "outside the 80x64 image"),
                           (["--hint", "1,2,#zzzzzz"], "not #rrggbb"),
                           (["--hints", str(tmp_path / "none.json")], "hints file not found"),
                           (["--reference", str(tmp_path / "missing.jpg")], "missing.jpg: file not found")):
        code = main(args + extra)
        err = capsys.readouterr().err.strip().splitlines()
        assert code != 0 and len(err) == 1 and message in err[0], (extra, err)
    assert main(["colorize", str(photo), "-o", str(out), "--model", str(tiny_model_file), "--hint", "1,1,#ffffff",
                 "-q"]) == 2
    assert "trained with hints" in capsys.readouterr().err


def _frame_lab(path, index: int) -> np.ndarray:
    with Image.open(path) as img:
        img.seek(index)
        rgb = np.asarray(img.convert("RGB"), np.float32) / 255
    return rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1)[None])[0].numpy()           # (3, H, W)


def test_hints_and_reference_reach_the_frames_of_an_animation(tmp_path, hint_model_file):
    frames = [scene(i, size=(48, 40)) for i in range(3)]
    src = tmp_path / "a.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=100, loop=0)
    outputs = {}
    for name, extra in (("plain", []), ("hint", ["--hint", "6,6,#ff0000"]), ("reference", ["--reference", str(src)])):
        out = tmp_path / name
        assert main(["colorize", str(src), "-o", str(out), "--model", str(hint_model_file), "--size", "48",
                     "--temporal", "off", "--no-dither", "-q"] + extra) == 0
        assert Image.open(out / "a.gif").n_frames == 3
        outputs[name] = out / "a.gif"
    red_a = _frame_lab(outputs["hint"], 0)[1, 5:8, 5:8].mean()
    assert red_a > 30 and red_a > _frame_lab(outputs["plain"], 0)[1, 5:8, 5:8].mean() + 20   # the point is red
    moved = [np.abs(_frame_lab(outputs["reference"], i)[1:] - _frame_lab(outputs["plain"], i)[1:]).mean()
             for i in range(3)]
    assert min(moved) > 1.0                                   # every frame leans towards the reference


def test_degradations_are_seeded_bounded_and_change_the_input():
    l = torch.rand(1, 1, 64, 64) * 100
    a = degrade_l(l.clone(), torch.Generator().manual_seed(3), p=1.0)
    b = degrade_l(l.clone(), torch.Generator().manual_seed(3), p=1.0)
    assert torch.equal(a, b) and a.shape == l.shape
    assert a.min() >= 0 and a.max() <= 100 and (a - l).abs().mean() > 1
    assert torch.equal(degrade_l(l.clone(), torch.Generator().manual_seed(3), p=0.0), l)


def test_old_prints_see_red_darker_and_blue_lighter_and_stay_in_range():
    from chromatize.color import rgb_to_lab
    from chromatize.degrade import film_lightness, degrade_lab, tone

    red, blue = torch.tensor([0.8, 0.2, 0.2]), torch.tensor([0.3, 0.5, 0.9])
    lab = rgb_to_lab(torch.stack([red, blue]).view(2, 3, 1, 1).expand(2, 3, 8, 8).contiguous())
    darker, lighter = 0, 0
    for seed in range(30):
        film = film_lightness(lab, torch.Generator().manual_seed(seed))
        darker += bool(film[0].mean() < lab[0, 0].mean() - 1)
        lighter += bool(film[1].mean() > lab[1, 0].mean() + 1)
    assert darker >= 10 and darker == lighter      # the eye's response a third of the time, a plate's otherwise
    curve = tone(torch.linspace(0, 100, 101).view(1, 1, 1, 101), torch.Generator().manual_seed(0))
    assert curve[..., 0] == 0 and abs(curve[..., -1] - 100) < 1e-3 and (curve.diff(dim=-1) >= 0).all()
    assert curve[..., 50] - curve[..., 45] > curve[..., 5] - curve[..., 0]    # steeper mid-tones: a toe
    out = degrade_lab(rgb_to_lab(torch.rand(1, 3, 32, 32)), torch.Generator().manual_seed(1), p=1.0)
    assert out.shape == (1, 1, 32, 32) and out.min() >= 0 and out.max() <= 100


def test_a_scan_sets_a_faded_prints_levels_and_grain_survives_a_large_scans_shrinking():
    from chromatize.degrade import grain, levels

    faded = 25 + torch.rand(1, 1, 64, 64) * 50                                 # L 25-75: lifted blacks, dull whites
    out = levels(faded, torch.Generator().manual_seed(0))
    low, high = torch.quantile(out.flatten(), 0.005), torch.quantile(out.flatten(), 0.995)
    assert 0 <= low <= 4.01 and 95.99 <= high <= 100.01
    assert torch.equal(out.flatten().argsort(), faded.flatten().argsort())   # the order of tones kept

    def shrunk_grain(side: int, seed: int) -> float:                       # grain's sigma seen at 256 px
        flat = torch.full((1, 1, side, side), 50.0)
        noisy = grain(flat, torch.Generator().manual_seed(seed))
        return float(F.interpolate(noisy, size=(256, 256), mode="area").std())

    small = statistics.median(shrunk_grain(256, s) for s in range(8))
    large = statistics.median(shrunk_grain(1024, s) for s in range(8))
    assert small > 0.5 and 0.5 < large / small < 1.5        # per-pixel noise would average out to a quarter


def test_training_with_hints_and_old_photo_damage_runs(photo_dir, tmp_path):
    from chromatize.training.config import build_config
    from chromatize.training.recipe import train_run

    cfg = build_config(preset="scratch", overrides=dict(model_kwargs={"width": 8, "hints": True}, size=32,
                                                        epochs=2, steps_per_epoch=2, batch_size=4, degrade=0.5))
    state = train_run(photo_dir, tmp_path / "run", cfg, progress=False)
    assert state.step == 4 and (tmp_path / "run" / "model.safetensors").exists()


def test_propagation_spreads_a_point_over_its_region_and_stops_at_edges():
    from chromatize.inference.propagation import hint_regions, propagate

    l = torch.full((1, 1, 64, 64), 30.0)
    l[..., 32:] = 80.0                                           # a strong edge down the middle
    ab = torch.zeros(1, 2, 64, 64)
    points = torch.zeros(1, 3, 64, 64)
    points[0, 0, 30:33, 10:13], points[0, 1, 30:33, 10:13], points[0, 2, 30:33, 10:13] = 0.3, -0.2, 1
    out = propagate(ab, hint_regions(l, points))
    left, right = out[0, :, 8:56, 4:28], out[0, :, 8:56, 36:60]
    assert torch.allclose(out[0, :, 31, 11], torch.tensor([0.3, -0.2]), atol=0.03)   # the point keeps its colour
    assert left[0].mean() > 0.15 and left[1].mean() < -0.1                           # its region takes it
    assert right.abs().max() < 0.05                                                   # across the edge: nothing
    assert torch.equal(propagate(ab, hint_regions(l, torch.zeros_like(points))), ab)  # no points: unchanged


def test_a_point_settles_a_doubtful_colour_in_its_region_but_does_not_force_one_ruled_out():
    from chromatize.color import AB_SCALE, ab_bin_centers
    from chromatize.inference.propagation import favour_hinted_colours, hint_regions

    centers = ab_bin_centers(step=10) / AB_SCALE
    nearest = lambda a, b: int(((centers - torch.tensor([a, b]) / AB_SCALE) ** 2).sum(1).argmin())
    green, brown, blue = nearest(-40, 40), nearest(20, 30), nearest(0, -50)
    l = torch.full((1, 1, 64, 64), 30.0)
    l[..., 32:] = 80.0                                               # two regions, an edge between
    logits = torch.full((1, len(centers), 16, 16), -5.0)             # one logit per 4x4 cell
    logits[:, [green, brown]] = 5.0                                  # everywhere: green or brown, alike

    def after_point(bin_index: int) -> torch.Tensor:
        points = torch.zeros(1, 3, 64, 64)
        points[0, :2, 30:33, 10:13] = centers[bin_index][:, None, None]
        points[0, 2, 30:33, 10:13] = 1
        return favour_hinted_colours(logits, hint_regions(l, points), centers).exp()[0]   # (Q, 16, 16)

    probs = after_point(green)
    left, right = probs[:, 2:14, 1:7], probs[:, 2:14, 9:15]
    assert left[green].min() > 0.8 and left[brown].max() < 0.2      # its region settles on the point's colour
    assert torch.allclose(right[green], right[brown], rtol=0.05)     # across the edge: still undecided
    assert after_point(blue)[blue].max() < 0.05                      # a colour the network ruled out stays out


def test_a_reference_palette_settles_the_colours_it_has_and_an_absent_one_changes_nothing():
    from chromatize.color import AB_SCALE, ab_bin_centers
    from chromatize.models.hint_inputs import reference_vector
    from chromatize.inference.propagation import favour_palette

    centers = ab_bin_centers(step=10) / AB_SCALE
    green, brown = (int(((centers - torch.tensor(c) / AB_SCALE) ** 2).sum(1).argmin()) for c in ((-40, 40), (20, 30)))
    logits = torch.full((1, len(centers), 4, 4), -5.0)
    logits[:, [green, brown]] = 5.0                                  # green or brown, alike
    reference = reference_vector(centers[green].view(1, 2, 1, 1).expand(1, 2, 16, 16), centers)  # all green
    probs = favour_palette(logits, reference).exp()
    assert probs[0, green].min() > 0.8 and probs[0, brown].max() < 0.2
    absent = reference.clone()
    absent[:, -1] = 0
    assert torch.allclose(favour_palette(logits, absent), logits.log_softmax(1), atol=1e-6)


def test_steering_takes_the_reference_statistics_and_ignores_an_absent_one():
    from chromatize.color import AB_SCALE, ab_bin_centers
    from chromatize.models.hint_inputs import reference_vector
    from chromatize.inference.propagation import steer_to_reference

    centers = ab_bin_centers(step=10) / AB_SCALE
    torch.manual_seed(0)
    ramp = torch.linspace(-0.1, 0.5, 32).expand(32, 32)                    # a: a wide spread; b: a narrow one
    ref_ab = torch.stack((ramp, ramp.T * 0.2 - 0.2))[None]
    reference = reference_vector(ref_ab, centers)
    ab = torch.randn(1, 2, 24, 24) * 0.05                                     # a dull, centred prediction
    out = steer_to_reference(ab, reference, centers)
    hist = reference[0, :-2] / reference[0, :-2].sum()
    want_mean = hist @ centers
    want_std = (hist @ centers**2 - want_mean**2).sqrt()
    got = out.flatten(2)
    assert torch.allclose(got.mean(2)[0], want_mean, atol=0.01)
    assert torch.allclose(got.std(2)[0], torch.minimum(want_std, 3 * ab.flatten(2).std(2)[0]), atol=0.01)
    absent = torch.zeros_like(reference)
    assert torch.equal(steer_to_reference(ab, absent, centers), ab)
    assert torch.allclose(steer_to_reference(ab, reference, centers, strength=0.0), ab)


def test_a_point_on_the_last_row_or_column_is_inside_and_one_past_it_is_not():
    from chromatize.inference.points import check_inside

    check_inside([Point(9, 4, (1, 2, 3))], 10, 5)
    for x, y in ((10, 0), (0, 5)):
        with pytest.raises(ValueError, match="outside the 10x5 image"):
            check_inside([Point(x, y, (1, 2, 3))], 10, 5)


def test_reference_palette_of_an_8_pixel_image_is_read_at_quarter_resolution():
    centers = ab_bin_centers(step=10) / 128
    checker = torch.zeros(1, 2, 8, 8)
    checker[0, 0] = torch.tensor([[0.3 if (i + j) % 2 else -0.3 for j in range(8)] for i in range(8)])
    histogram = reference_vector(checker, centers)[0, :-2]
    assert histogram.max() == 1.0               # 4x4 means are all a = 0: one bin, not the two colours


def test_one_json_reader_for_hints_files_the_page_and_the_api():
    from chromatize.inference.points import points_from_json

    text = '[{"x": 3, "y": 4.5, "color": "#c0392b"}, {"x": 1, "y": 2, "color": [0, 128, 255]}]'
    points = points_from_json(text)
    assert points == points_from_json(json.loads(text)) == [Point(3, 4.5, (192, 57, 43)), Point(1, 2, (0, 128, 255))]
    for bad in ('{"x": 1}', '[{"x": 1, "y": 2}]', "[1, 2]", "not json"):
        with pytest.raises(ValueError, match=r'^clicks: not a JSON list of \{"x", "y", "color"\}'):
            points_from_json(bad, source="clicks")
    with pytest.raises(ValueError, match=r'^hints.json: hint \{"frames": 240, .*\} has a key this version does '
                                         r'not read: frames \(it reads color, frame, time, x, y\)$'):
        points_from_json('[{"x": 1, "y": 2, "color": "#000000"}, {"frames": 240, "x": 1, "y": 2, "color": "#000000"}]',
                         source="hints.json")


def test_a_wider_patch_covers_its_square_and_a_point_on_the_first_column_is_inside():
    from chromatize.inference.points import check_inside

    maps = point_maps([Point(10, 10, (255, 0, 0))], full=(20, 20), small=(20, 20), patch=5)
    assert maps[0, 2].sum() == 25 and maps[0, 2, 8:13, 8:13].all()
    check_inside([Point(0, 0, (1, 2, 3))], 10, 5)


def test_bad_keyframes_and_references_are_named(tmp_path):
    from chromatize.inference.points import points_from_json, read_guidance, read_hints

    for frame in (1.5, "3", True):
        with pytest.raises(ValueError, match="is not a frame number"):
            Point.make(1, 2, "#000000", frame=frame)
    assert Point.make(1, 2, "#000000", time=0).time == 0.0
    with pytest.raises(ValueError, match=r"^h: not a JSON list of .* \(a JSON dict\)$"):
        points_from_json('{"x": 1}', source="h")
    (tmp_path / "p.jpg").write_bytes(b"")
    hints = tmp_path / "h.json"
    hints.write_text('[{"reference": "p.jpg", "from": 5, "to": 5}]')
    with pytest.raises(ValueError, match="to must be after from"):
        read_guidance([], hints)
    hints.write_text('[{"reference": "p.jpg", "shot": 1}]')
    assert read_guidance(["7:1,2,#000000"], hints)[0][0].frame == 7
    with pytest.raises(ValueError, match="reference entries apply to videos"):
        read_hints([], hints)
