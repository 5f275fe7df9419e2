import numpy as np
import pytest
import torch
from skimage import color as skcolor

from chromatize.color import (
    ab_bin_centers,
    denormalize_l,
    gray_to_l,
    lab_to_rgb,
    merge_l_ab,
    normalize_ab,
    normalize_l,
    rgb8_to_l,
    rgb_to_lab,
)


def random_rgb(n: int = 4096, seed: int = 0) -> np.ndarray:
    rgb = np.random.default_rng(seed).random((n, 1, 3))
    rgb[:8, 0] = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5], [0.01, 0.02, 0.0], [1, 1, 0]]
    return rgb


def as_tensor(hwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(hwc).permute(2, 0, 1)[None]


def test_rgb_to_lab_matches_scikit_image():
    rgb = random_rgb()
    ours = rgb_to_lab(as_tensor(rgb))[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - skcolor.rgb2lab(rgb)).max() < 1e-3


def test_lab_to_rgb_matches_scikit_image():
    lab = skcolor.rgb2lab(random_rgb(seed=1))
    ours = lab_to_rgb(as_tensor(lab))[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - skcolor.lab2rgb(lab)).max() < 1e-3


def test_round_trip_rgb_lab_rgb():
    rgb = as_tensor(random_rgb(seed=2))
    assert torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-5)


def test_float32_round_trip_is_close():
    rgb = as_tensor(random_rgb(seed=3)).float()
    assert (lab_to_rgb(rgb_to_lab(rgb)) - rgb).abs().max() < 1e-4


def test_gray_to_l_equals_l_of_grey_rgb():
    gray = torch.linspace(0, 1, 101, dtype=torch.float64).view(1, 1, 1, -1)
    expected = rgb_to_lab(gray.expand(1, 3, 1, 101))[:, :1]
    assert torch.allclose(gray_to_l(gray), expected, atol=1e-6)


def test_normalisation_ranges_and_inverse():
    l = torch.tensor([0.0, 50.0, 100.0])
    assert normalize_l(l).tolist() == [-1.0, 0.0, 1.0]
    assert torch.allclose(denormalize_l(normalize_l(l)), l)
    assert normalize_ab(torch.tensor([-128.0, 64.0])).tolist() == [-1.0, 0.5]


def test_merge_keeps_full_resolution_and_lightness():
    rgb = as_tensor(random_rgb(seed=4).reshape(64, 64, 3)).float()
    lab = rgb_to_lab(rgb)
    ab_small = normalize_ab(torch.nn.functional.avg_pool2d(lab[:, 1:], 4))     # (1, 2, 16, 16)
    out = merge_l_ab(lab[:, :1], ab_small, strip_pixels=64 * 10)         # strips of 10 rows
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    zero = merge_l_ab(lab[:, :1], torch.zeros(1, 2, 4, 4))                      # grey: L must survive
    l_back = rgb_to_lab(torch.from_numpy(zero / 255.0).permute(2, 0, 1)[None])[:, 0]
    assert (l_back - lab[:, 0].double()).abs().max() < 0.5


def test_conversion_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="shape"):
        rgb_to_lab(torch.zeros(1, 1, 4, 4))


def test_ab_bins_cover_the_srgb_gamut():
    centers = ab_bin_centers(step=10)
    assert 200 < len(centers) < 400
    lab = rgb_to_lab(as_tensor(random_rgb(seed=5)))[0, 1:].reshape(2, -1).T.float()
    nearest = torch.cdist(lab, centers).min(dim=1).values
    assert nearest.max() <= 5 * 2**0.5 + 1e-4          # every colour falls inside some cell


def test_strip_upsampling_equals_full_bilinear():
    import torch.nn.functional as F

    from chromatize.color import upsample_rows

    x = torch.rand(1, 2, 37, 50)
    for height in (37, 100, 1001):
        full = F.interpolate(x, size=(height, 50), mode="bilinear", align_corners=False)
        strips = torch.cat([upsample_rows(x, slice(t, min(t + 64, height)), height) for t in range(0, height, 64)], 2)
        assert torch.allclose(full, strips, atol=1e-5)


def test_merge_in_strips_matches_one_strip():
    from chromatize.color import merge_l_ab

    l_full = torch.rand(1, 1, 130, 70) * 100
    ab = torch.rand(1, 2, 16, 9) * 0.6 - 0.3
    assert np.abs(merge_l_ab(l_full, ab, strip_pixels=70 * 9).astype(int) - merge_l_ab(l_full, ab, strip_pixels=70 * 1000)).max() == 0


def test_rgb8_to_l_equals_the_l_of_rgb_to_lab():
    rgb = np.random.default_rng(3).integers(0, 256, (2, 7, 9, 3), dtype=np.uint8)
    exact = rgb_to_lab(torch.from_numpy(rgb).permute(0, 3, 1, 2).double() / 255)[:, :1]
    assert torch.allclose(rgb8_to_l(rgb).double(), exact, atol=1e-3)


def test_merge_equals_lab_to_rgb_of_the_bilinear_upsampled_colour():
    import torch.nn.functional as F

    l_full = torch.rand(1, 1, 50, 70, dtype=torch.float64) * 100
    ab = torch.rand(1, 2, 13, 9, dtype=torch.float64) * 0.6 - 0.3
    ab_full = F.interpolate(ab, size=(50, 70), mode="bilinear", align_corners=False) * 128
    expected = (lab_to_rgb(torch.cat((l_full, ab_full), 1))[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    got = merge_l_ab(l_full, ab, strip_pixels=70 * 8)
    assert np.abs(got.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("lightness", [0.5, 3.0, 7.9, 8.1, 30.0, 99.0])
def test_l_to_gray_gives_the_grey_of_that_lightness_also_in_the_linear_segment(lightness):
    from chromatize.color import l_to_gray

    gray = l_to_gray(torch.full((1, 1, 1, 1), lightness, dtype=torch.float64))
    by_skimage = skcolor.rgb2lab(np.full((1, 1, 3), float(gray)))[0, 0, 0]
    assert abs(by_skimage - lightness) < 1e-3          # skimage rounds the CIE constants


def test_channel_errors_name_the_argument():
    with pytest.raises(ValueError, match="^gray must have shape"):
        gray_to_l(torch.zeros(1, 3, 2, 2))
