"""Kernel regression, the linearised-GD predictor and GD-trained predictions (estimators/kernel_regression.py)."""

import numpy as np
import pytest
import torch

from estimators.hessian import draw_networks
from estimators.kernel_regression import kernel_regression, linearised_gd, train_predict
from estimators.training import train_square_loss, training_set
from models.lzb import LZBNet
from models.resnet import HuangFFNet


def psd(n, rank=None, seed=0):
    rng = np.random.default_rng(seed)
    factor = rng.standard_normal((n, rank or n))
    return factor @ factor.T / n


def test_kernel_regression_solves_the_regularised_system():
    gram, rng = psd(6), np.random.default_rng(1)
    cross, y = rng.standard_normal((4, 6)), rng.choice([-1.0, 1.0], 6)
    predicted, condition = kernel_regression(gram, cross, y, ridge=1e-3)
    regularised = gram + 1e-3 * np.mean(np.diag(gram)) * np.eye(6)
    assert np.allclose(predicted, cross @ np.linalg.solve(regularised, y), rtol=1e-10)
    assert condition == pytest.approx(np.linalg.cond(regularised))
    with pytest.raises(ValueError, match="not numerically positive definite"):
        kernel_regression(-np.eye(3), np.ones((1, 3)), np.ones(3), ridge=0.0)
    with pytest.raises(ValueError, match="NaN"):
        kernel_regression(np.full((2, 2), np.nan), np.ones((1, 2)), np.ones(2))
    with pytest.raises(ValueError, match="targets"):
        kernel_regression(gram, cross, np.ones(5))


@pytest.mark.parametrize("rank", [None, 3])
def test_linearised_gd_is_gd_on_the_linear_model(rank):
    """T explicit steps r <- r - c K r, f(x) += -c K(x, X) r, against the closed form; singular K included."""
    n, steps, rng = 7, 25, np.random.default_rng(2)
    gram = psd(n, rank, seed=3)
    cross, residuals = rng.standard_normal((5, n)), rng.standard_normal((3, n))
    c = np.array([0.2, 0.5, 0.9]) / np.linalg.eigvalsh(gram).max()
    closed = linearised_gd(gram, cross, residuals, c, steps)
    for b in range(3):
        r, change = residuals[b].copy(), np.zeros(5)
        for _ in range(steps):
            change -= c[b] * cross @ r
            r -= c[b] * gram @ r
        assert np.allclose(closed[b], change, rtol=1e-9, atol=1e-12)
        assert np.allclose(linearised_gd(gram, cross, residuals[b], c[b], steps), closed[b], rtol=1e-12)


def test_linearised_gd_refuses_unstable_steps_and_bad_residuals():
    gram = psd(4)
    top = np.linalg.eigvalsh(gram).max()
    with pytest.raises(ValueError, match="stability limit"):
        linearised_gd(gram, np.ones((1, 4)), np.ones(4), 2.5 / top, 3)
    with pytest.raises(ValueError, match="residual"):
        linearised_gd(gram, np.ones((1, 4)), np.ones(3), 0.1, 3)
    with pytest.raises(ValueError, match="step_over_n"):
        linearised_gd(gram, np.ones((1, 4)), np.ones(4), -0.1, 3)


def test_train_predict_moves_only_the_trained_matrices_and_matches_train_square_loss():
    spec = HuangFFNet(3, 2, 16)  # A and v fixed
    x, y = training_set("synthetic", 8, 3, seed=4)
    x = x / x.norm(dim=1, keepdim=True)
    weights = draw_networks(spec, 5, 3)
    run = train_predict(spec, weights, x, y, x, 30)
    reference = train_square_loss(spec, weights, x, y, 30)
    assert torch.allclose(run.loss, reference.loss, rtol=1e-12)
    assert torch.allclose(run.final, spec.apply(final_weights(spec, weights, x, y, 30), x.expand(3, -1, -1)))
    assert (run.loss[:, -1] < run.loss[:, 0]).all()
    lzb = LZBNet(3, 1, 8, "tanh")
    with pytest.raises(ValueError, match="y must be 8 finite targets"):
        train_predict(lzb, draw_networks(lzb, 0, 1), x, y[:5], x, 3)


def test_train_predict_caps_the_step_at_max_learning_rate():
    spec = HuangFFNet(3, 2, 16)
    x, y = training_set("synthetic", 8, 3, seed=4)
    x = x / x.norm(dim=1, keepdim=True)
    weights = draw_networks(spec, 5, 3)
    free = train_predict(spec, weights, x, y, x, 5).learning_rate
    cap = float(free.min() + free.max()) / 2
    capped = train_predict(spec, weights, x, y, x, 5, max_learning_rate=cap).learning_rate
    assert torch.equal(capped, free.clamp(max=cap)) and (capped < free).any() and (capped == free).any()
    for bad in (0.0, -1.0, float("nan"), "1", True):
        with pytest.raises(ValueError, match="max_learning_rate must be a finite number > 0"):
            train_predict(spec, weights, x, y, x, 5, max_learning_rate=bad)


def final_weights(spec, weights, x, y, steps):
    """GD by hand on the trained matrices only (W1, W2), eta_b = n / (2 lambda_max(K_0))."""
    from estimators.hessian import ntk_gram

    eta = 0.5 * len(y) / torch.linalg.eigvalsh(ntk_gram(spec, weights, x))[:, -1]
    current = {k: v.clone() for k, v in weights.items()}
    for _ in range(steps):
        params = {k: v.clone().requires_grad_(k.startswith("W")) for k, v in current.items()}
        loss = 0.5 * (spec.apply(params, x.expand(3, -1, -1)) - y).pow(2).mean(dim=1)
        names = [k for k in params if k.startswith("W")]
        grads = torch.autograd.grad(loss.sum(), [params[k] for k in names])
        for k, g in zip(names, grads, strict=True):
            current[k] = (params[k] - eta[:, None, None] * g).detach()
    assert torch.equal(current["A"], weights["A"]) and torch.equal(current["v"], weights["v"])
    return current


def test_threshold_depth_interpolates_the_first_crossing_in_log2_depth():
    from estimators.kernel_regression import threshold_depth

    depths = (1, 2, 4, 8)
    assert threshold_depth(depths, [0.90, 0.92, 0.90, 0.86], 0.03) == pytest.approx(2 + (0.90 - 0.89) / 0.04)
    assert threshold_depth(depths, [0.92, 0.88, 0.91, 0.80], 0.03) == pytest.approx(1 - 0.01 / 0.04 + 0.0)
    assert threshold_depth(depths, [0.90, 0.90, 0.89, 0.88], 0.03) == float("inf")  # never 0.03 below
    with pytest.raises(ValueError, match="increasing depths"):
        threshold_depth((2, 1), [0.9, 0.8], 0.03)
    with pytest.raises(ValueError, match="drop"):
        threshold_depth(depths, [0.9] * 4, 0.0)


def test_split_indices_are_seeded_and_sized():
    from estimators.kernel_regression import split_indices

    first = split_indices(20, 5, 3, seed=1)
    again = split_indices(20, 5, 3, seed=1)
    assert [len(s) for s in first] == [5, 5, 5] and all((s == t).all() for s, t in zip(first, again, strict=True))
    assert not (first[0] == first[1]).all()
    with pytest.raises(ValueError, match="n_train"):
        split_indices(5, 5, 1, seed=0)
