import pytest
import torch

from chromatize.color import AB_SCALE, ab_bin_centers
from chromatize.training.losses import BinClassLoss, RegressionLoss


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


def test_distillation_with_no_teacher_share_is_the_plain_loss():
    loss, plain = BinClassLoss(ab_bin_centers() / AB_SCALE, distill=0.0), bin_loss()
    logits, target = torch.randn(2, loss.centers.shape[0], 2, 2), torch.rand(2, 2, 4, 4) - 0.5
    teacher = torch.randn_like(logits).log_softmax(1)
    assert torch.allclose(loss(logits, (target, teacher)), plain(logits, target))


def test_distillation_alone_is_lowest_where_the_student_matches_the_teacher():
    loss = BinClassLoss(ab_bin_centers() / AB_SCALE, distill=1.0)
    target = torch.rand(2, 2, 4, 4) - 0.5
    teacher = (3 * torch.randn(2, loss.centers.shape[0], 2, 2)).log_softmax(1)
    at_teacher = teacher.clone().requires_grad_(True)
    loss(at_teacher, (target, teacher)).backward()
    assert at_teacher.grad.abs().max() < 1e-6                        # its minimum: the teacher's distribution
    assert loss(teacher + 0.5 * torch.randn_like(teacher), (target, teacher)) > loss(teacher, (target, teacher))


def test_a_teacher_of_another_shape_is_a_clear_error():
    loss = BinClassLoss(ab_bin_centers() / AB_SCALE)
    logits = torch.zeros(1, loss.centers.shape[0], 2, 2)
    with pytest.raises(ValueError, match="teacher output"):
        loss(logits, (torch.zeros(1, 2, 4, 4), torch.zeros(1, loss.centers.shape[0], 4, 4)))
