import numpy as np
import pytest
from skimage import color as skcolor
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from chromatize.evaluation import metrics


def pair(seed=0, shape=(40, 50, 3)):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 256, shape, dtype=np.uint8)
    pred = np.clip(truth.astype(int) + rng.integers(-30, 31, shape), 0, 255).astype(np.uint8)
    return pred, truth


def test_psnr_matches_scikit_image_and_hand_value():
    pred, truth = pair()
    assert metrics.psnr(pred, truth) == pytest.approx(peak_signal_noise_ratio(truth, pred, data_range=255))
    a, b = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 255, np.uint8)
    assert metrics.psnr(a, b) == pytest.approx(0.0)                      # mse = 255^2
    assert metrics.psnr(a, a) == float("inf")


def test_ssim_matches_scikit_image_gaussian_setting():
    pred, truth = pair(1)
    expected = structural_similarity(truth, pred, data_range=255, channel_axis=2, gaussian_weights=True,
                                     sigma=1.5, use_sample_covariance=False)
    assert metrics.ssim(pred, truth) == pytest.approx(expected, abs=1e-6)
    assert metrics.ssim(truth, truth) == pytest.approx(1.0)


def test_ciede2000_matches_scikit_image_and_sharma_pairs():
    rng = np.random.default_rng(2)
    lab1 = np.stack([rng.uniform(0, 100, 500), rng.uniform(-100, 100, 500), rng.uniform(-100, 100, 500)], -1)
    lab2 = lab1 + rng.normal(0, 8, lab1.shape)
    assert np.allclose(metrics.ciede2000(lab1, lab2), skcolor.deltaE_ciede2000(lab1, lab2), atol=1e-6)
    # Sharma, Wu & Dalal (2005) test data, pairs 1 and 7
    sharma = np.array([[50, 2.6772, -79.7751], [50, 0, 0]], float), np.array([[50, 0, -82.7485], [50, -1, 2]], float)
    assert np.allclose(metrics.ciede2000(*sharma), [2.0425, 2.3669], atol=1e-4)


def test_colorfulness_hand_computed():
    grey = np.full((4, 4, 3), 128, np.uint8)
    assert metrics.colorfulness(grey) == 0
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 200                                                      # rg = 200, yb = 100, no spread
    assert metrics.colorfulness(red) == pytest.approx(0.3 * np.hypot(200, 100))
    half = np.zeros((1, 2, 3), np.uint8)
    half[0, 0, 0] = 100                                                    # rg: 100, 0; yb: 50, 0
    assert metrics.colorfulness(half) == pytest.approx(np.hypot(50, 25) + 0.3 * np.hypot(50, 25))


def test_auc_perfect_hand_value_and_rebalancing():
    ab = np.array([[0.0, 0.0]] * 9 + [[60.0, 60.0]])
    perfect = metrics.AucAccumulator()
    perfect.add(ab, ab)
    assert perfect.result() == pytest.approx((1.0, 1.0))
    off = metrics.AucAccumulator()
    pred = ab.copy()
    pred[-1] = [60.0, -15.0]                                               # the rare pixel is 75 units off
    off.add(pred, ab)
    within = np.r_[np.full(75, 0.9), np.full(76, 1.0)]                     # t = 0..74: 0.9, t >= 75: 1.0
    plain, rebalanced = off.result()
    assert plain == pytest.approx(np.trapezoid(within) / 150)
    rare = np.r_[np.zeros(75), np.ones(76)]
    assert rebalanced == pytest.approx((1.0 + np.trapezoid(rare) / 150) / 2)
    assert rebalanced < plain                                              # rare colours weigh more


def test_ciede2000_takes_the_short_way_round_the_hue_circle_both_ways():
    lab1 = np.array([[60.0, 30.0, -5.0], [60.0, 30.0, 5.0]])       # hues 350.5 and 9.5 degrees
    lab2 = lab1[::-1].copy()
    ours = metrics.ciede2000(lab1, lab2)
    assert np.allclose(ours, skcolor.deltaE_ciede2000(lab1, lab2), atol=1e-6) and ours[0] == pytest.approx(ours[1])
    assert ours[0] < 10                                              # 19 degrees of hue apart: a small difference


def test_metrics_say_what_is_wrong():
    with pytest.raises(ValueError, match="no pixels were added"):
        metrics.AucAccumulator().result()
    with pytest.raises(ValueError, match=r"SSIM needs images of at least \d+x\d+ px, got \(4, 4\)"):
        metrics.ssim(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8))


def test_auc_adds_up_what_several_calls_add():
    pred, truth = np.zeros((4, 2)), np.array([[0.0, 0.0], [0.0, 0.0], [30.0, 0.0], [30.0, 0.0]])
    once, twice = metrics.AucAccumulator(), metrics.AucAccumulator()
    once.add(pred, truth)
    twice.add(pred[:2], truth[:2])
    twice.add(pred[2:], truth[2:])
    assert twice.result() == pytest.approx(once.result()) and once.result()[0] < 1
