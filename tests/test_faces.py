"""The skin step (chromatize/inference/faces.py): faces found on the grey input, skin hues decoded there alone."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from chromatize.color import ab_bin_centers, rgb_to_lab
from chromatize.inference.faces import Face, find_faces, skin_bins, skin_blend
from chromatize.inference import Colorizer
from chromatize.models import create_model

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_face_of_the_bundled_portrait_is_found_and_none_on_a_cat_or_a_meadow():
    [face] = find_faces(np.asarray(Image.open(EXAMPLES / "astronaut.jpg").convert("L")))
    assert 0.35 < face.cx < 0.55 and 0.15 < face.cy < 0.35         # Eileen Collins' face, upper middle
    assert 0.05 < face.rx < 0.2 and face.holds(face.cx, face.cy) and not face.holds(0.9, 0.9)
    for name in ("chelsea.jpg", "meadow.jpg"):
        assert find_faces(np.asarray(Image.open(EXAMPLES / name).convert("L"))) == []


def test_skin_bins_are_warm_and_not_grey():
    centers = ab_bin_centers(step=10) / 128
    ab = centers[skin_bins(centers)] * 128
    hue = torch.rad2deg(torch.atan2(ab[:, 1], ab[:, 0]))
    assert len(ab) >= 4 and (ab.norm(dim=1) >= 15).all() and (hue >= 25).all() and (hue <= 80).all()
    assert not skin_bins(torch.zeros(1, 2)).any()


def test_skin_blend_turns_a_grey_face_to_skin_and_leaves_the_rest():
    centers = ab_bin_centers(step=10) / 128                                     # (Q, 2) ab_norm
    grey = int(centers.norm(dim=1).argmin())
    logits = torch.full((1, len(centers), 16, 16), -4.0)
    logits[:, grey] = 4.0                                                      # the network says grey everywhere
    ab = torch.zeros(1, 2, 32, 32)
    l = torch.full((1, 1, 32, 32), 60.0)
    l[..., :, 24:] = 15.0                                                      # a dark background on the right
    face = Face(0.5, 0.5, 0.5, 0.5)
    out = skin_blend(logits, ab, [[face]], centers, temperature=0.5, l=l) * 128
    centre = out[0, :, 16, 16]
    hue = math.degrees(math.atan2(centre[1], centre[0]))
    assert centre.norm() >= 8 and 25 <= hue <= 80                               # skin in the middle of the face
    assert out[0, :, 0, 0].abs().max() < 1e-6                                   # outside the ellipse: as it was
    assert out[0, :, 16, 28].norm() < 0.05 * centre.norm()                      # the dark background keeps its grey
    assert torch.equal(skin_blend(logits, ab, [[]], centers, temperature=0.5, l=l), ab)


def test_colorizer_changes_the_face_alone_and_skin_off_is_the_network_as_it_is():
    torch.manual_seed(0)
    model = create_model("unet", width=8, depth=2, head="classification")
    photo = Image.open(EXAMPLES / "astronaut.jpg")
    on = np.asarray(Colorizer(model, size=128, device="cpu").colorize(photo), dtype=int)
    off = np.asarray(Colorizer(model, size=128, device="cpu", skin=False).colorize(photo), dtype=int)
    changed = np.abs(on - off).max(axis=2) > 2
    [face] = find_faces(np.asarray(photo.convert("L")))
    ys, xs = np.nonzero(changed)
    assert changed.any() and changed.mean() < 0.2
    assert all(face.holds(x / photo.width, y / photo.height) for x, y in zip(xs[::50], ys[::50]))
    lab = rgb_to_lab(torch.from_numpy(on.astype(np.float32) / 255).permute(2, 0, 1)[None])[0]
    cy, cx = int(face.cy * photo.height), int(face.cx * photo.width)
    a, b = lab[1:, cy - 3:cy + 4, cx - 3:cx + 4].mean((1, 2)).tolist()
    assert math.hypot(a, b) >= 8 and 25 <= math.degrees(math.atan2(b, a)) <= 80


def test_a_face_with_a_users_point_in_it_is_left_to_the_point():
    torch.manual_seed(0)
    colorizer = Colorizer(create_model("unet", width=8, depth=2, head="classification", hints=True), size=128,
                          device="cpu")
    photo = Image.open(EXAMPLES / "astronaut.jpg")
    l_full = torch.from_numpy(np.asarray(photo.convert("L"), np.float32) / 255 * 100)[None, None]
    [face] = colorizer.faces(l_full)
    inside = (face.cx * photo.width, face.cy * photo.height, "#808080")
    assert colorizer.faces(l_full, [inside]) == []
    assert colorizer.faces(l_full, [(2, 2, "#808080")]) == [face]
