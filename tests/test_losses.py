import torch

from chromatize.color import AB_SCALE, ab_bin_centers
from chromatize.training.losses import BinClassLoss, RegressionLoss, consistency_loss


def bin_loss() -> BinClassLoss:
    return BinClassLoss(ab_bin_centers() / AB_SCALE)


def test_soft_encoding_sums_to_one_and_peaks_at_nearest_bin():
    loss = bin_loss()
    ab = torch.tensor([[0.1, -0.2], [0.0, 0.0]])
    soft, nearest = loss.encode(ab)
    assert torch.allclose(soft.sum(1), torch.ones(2))
    assert torch.equal(soft.argmax(1), nearest)
    assert torch.equal(nearest, torch.cdist(ab, loss.centers).argmin(1))


def test_prior_weights_have_unit_expectation_and_favour_rare_colours():
    loss = bin_loss()
    common = torch.zeros(900, 2)
    rare = torch.tensor([[0.5, 0.4]]).repeat(100, 1)
    loss.fit_prior(torch.cat((common, rare)))
    _, idx = loss.encode(torch.cat((common[:1], rare[:1])))
    assert loss.weights[idx[1]] > loss.weights[idx[0]]


def test_classification_loss_is_lower_for_the_right_bin():
    loss = bin_loss()
    target = torch.full((1, 2, 4, 4), 0.3)
    _, idx = loss.encode(torch.tensor([[0.3, 0.3]]))
    right = torch.zeros(1, loss.centers.shape[0], 2, 2)
    right[:, idx[0]] = 10
    wrong = torch.zeros_like(right)
    wrong[:, (idx[0] + 50) % loss.centers.shape[0]] = 10
    assert loss(right, target) < loss(wrong, target)


def test_regression_losses_are_zero_on_match_and_pool_the_target():
    pred = torch.full((1, 2, 2, 2), 0.25)
    target = torch.full((1, 2, 8, 8), 0.25)
    for kind in ("mse", "l1", "huber"):
        assert RegressionLoss(kind)(pred, target).item() == 0
        assert RegressionLoss(kind)(pred, -target).item() > 0


def test_rebalance_one_means_uniform_weights():
    loss = BinClassLoss(ab_bin_centers() / AB_SCALE, rebalance=1.0)
    loss.fit_prior(torch.cat((torch.zeros(900, 2), torch.full((100, 2), 0.4))))
    assert torch.allclose(loss.weights, torch.ones_like(loss.weights))


def test_ab_regression_term_penalises_a_mean_away_from_the_target():
    centers = ab_bin_centers() / AB_SCALE
    target = torch.full((1, 2, 4, 4), 0.3)
    plain, mixed = BinClassLoss(centers), BinClassLoss(centers, regression=10.0)
    _, idx = plain.encode(torch.tensor([[0.3, 0.3], [-0.3, -0.3]]))
    for bin_index, is_right in ((idx[0], True), (idx[1], False)):
        logits = torch.zeros(1, centers.shape[0], 2, 2)
        logits[:, bin_index] = 20
        extra = mixed(logits, target) - plain(logits, target)
        assert (extra < 0.01) if is_right else (extra > 1.0)


def test_consistency_loss_is_zero_where_the_answers_agree_and_grows_as_they_part():
    teacher = torch.randn(2, 7, 3, 3)
    assert consistency_loss(teacher + 5.0, teacher).abs() < 1e-5      # the same bins: a shift changes nothing
    near, far = teacher.clone(), teacher.clone()
    near[:, 0] += 1.0
    far[:, 0] += 4.0
    assert 0 < consistency_loss(near, teacher) < consistency_loss(far, teacher)
    both = consistency_loss((teacher, far), teacher)                    # a tuple: the mean over its parts
    assert torch.isclose(both, consistency_loss(far, teacher) / 2)
