"""Kernel change along paths and under gradient descent (estimators/training.py) against closed forms."""

import math

import pytest
import torch

import estimators.training as training
from engine.budget import MonteCarlo
from estimators.hessian import draw_networks, ntk_gram
from estimators.training import (
    kernel_change_slope,
    path_change,
    random_features_model,
    spec_model,
    tangent_kernel,
    train_square_loss,
    training_set,
    training_sweep,
)
from models.lzb import LZBNet
from models.resnet import HuangFFNet
from models.strategies_lzb import LossCase, PathCase, TrainingCase


@pytest.mark.parametrize("name, dim", [("synthetic", 3), ("digits", 64)])
def test_training_sets_have_scaled_rows_and_pm1_labels(name, dim):
    x, labels = training_set(name, 12, dim, seed=4)
    assert x.shape == (12, dim) and x.dtype == torch.float64
    assert torch.allclose(x.norm(dim=1), torch.full((12,), math.sqrt(dim), dtype=torch.float64))
    assert set(labels.tolist()) <= {-1.0, 1.0}
    again, _ = training_set(name, 12, dim, seed=4)
    other, _ = training_set(name, 12, dim, seed=5)
    assert torch.equal(x, again) and not torch.equal(x, other)
    if name == "synthetic":
        assert torch.equal(labels, torch.where(x[:, 0] > 0, 1.0, -1.0).double())


def test_digits_are_centred_pixels_with_parity_labels():
    from sklearn.datasets import load_digits

    data = load_digits()
    pixels = torch.tensor(data.data, dtype=torch.float64)
    centred = pixels - pixels.mean(dim=0)
    x, labels = training_set("digits", 5, 64, seed=0)
    for row, label in zip(x, labels, strict=True):
        match = (torch.nn.functional.normalize(centred, dim=1) @ (row / row.norm())).argmax()
        assert torch.allclose(row / 8.0, centred[match] / centred[match].norm())
        assert label == (1.0 if data.target[match] % 2 == 0 else -1.0)


def test_one_gradient_step_matches_a_hand_computed_step():
    spec = LZBNet(3, 2, 5, "tanh", "tanh")
    weights = draw_networks(spec, 1, 2)
    x, labels = training_set("synthetic", 6, 3, seed=2)
    run = train_square_loss(spec, weights, x, labels, steps=1, lr_fraction=0.5)
    kernel0 = ntk_gram(spec, weights, x)
    eta = 0.5 * 6 / torch.linalg.eigvalsh(kernel0)[:, -1]
    assert torch.allclose(run.learning_rate, eta)
    moved = {}
    for name in weights:
        moved[name] = weights[name].clone()
    params = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
    loss = 0.5 * (spec.apply(params, x.expand(2, -1, -1)) - labels).pow(2).mean(dim=1)
    grads = torch.autograd.grad(loss.sum(), list(params.values()))
    moved = {k: weights[k] - eta[:, None, None] * g for k, g in zip(params, grads, strict=True)}
    kernel1 = ntk_gram(spec, moved, x)
    expected = (kernel1 - kernel0).flatten(1).norm(dim=1) / kernel0.flatten(1).norm(dim=1)
    assert torch.allclose(run.kernel_change, expected, rtol=1e-12)
    assert torch.allclose(run.loss[:, 0], loss.detach())
    total = sum((moved[k] - weights[k]).pow(2).sum(dim=(1, 2)) for k in weights).sqrt()
    assert torch.allclose(run.weight_change, total)


def test_small_steps_decrease_the_loss_monotonically():
    spec = LZBNet(4, 1, 32, "relu")
    x, labels = training_set("synthetic", 8, 4, seed=0)
    run = train_square_loss(spec, draw_networks(spec, 0, 3), x, labels, steps=15, lr_fraction=0.5)
    assert (run.loss[:, 1:] < run.loss[:, :-1]).all() and (run.loss_ratio < 1).all()


def test_diverged_descent_is_a_clear_error(monkeypatch):
    spec = LZBNet(2, 1, 8, "relu")
    x, labels = training_set("synthetic", 4, 2, seed=0)
    real = training.ntk_gram
    monkeypatch.setattr(training, "ntk_gram", lambda *a: real(*a) * 1e-30)  # eta ~ 1e30: blows up
    with pytest.raises(ValueError, match="diverged"):
        train_square_loss(spec, draw_networks(spec, 0, 1), x, labels, steps=20)


def test_quadratic_model_path_change_matches_closed_form():
    """f(theta, x) = (theta . a)^2 x: K = 4 (theta . a)^2 |a|^2 x x^T, so along theta0 + t R u the relative change
    is |q(t)^2 - q(0)^2| / q(0)^2 with q(t) = (theta0 + t R u) . a, and the defect is (t R u.a)^2 / |f(t) - f(0)|."""
    a = torch.tensor([0.3, -1.2, 0.5], dtype=torch.float64)

    def model(theta, x):
        return (theta @ a) ** 2 * x[:, 0]

    x = torch.tensor([[1.0], [0.5]], dtype=torch.float64)
    result = path_change(model, 3, x, radius=0.7, seed=3, path="line", n_points=4)
    generator = torch.Generator().manual_seed(training.derive_seed(3, "path"))
    theta0 = torch.randn(3, generator=generator, dtype=torch.float64)
    u = torch.randn(3, generator=generator, dtype=torch.float64)
    u = u / u.norm()
    q0, changes, defects = theta0 @ a, [], []
    for t in (0.25, 0.5, 0.75, 1.0):
        q = (theta0 + t * 0.7 * u) @ a
        changes.append(abs(q**2 - q0**2) / q0**2)
        defects.append(float((t * 0.7 * u @ a) ** 2 / abs(q**2 - q0**2)))
    assert result.kernel_change == pytest.approx(float(max(changes)), rel=1e-12)
    assert result.linearity_defect == pytest.approx(max(defects), rel=1e-9)


@pytest.mark.parametrize("path", ["line", "arc"])
def test_linear_model_is_exactly_constant_and_a_network_is_not(path):
    x = torch.tensor([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    linear, size = random_features_model(2, 16, "tanh", seed=1)
    constant = path_change(linear, size, x, radius=3.0, seed=2, path=path)
    assert constant.kernel_change == 0.0 and constant.linearity_defect < 1e-14
    network, size = spec_model(LZBNet(2, 2, 16, "tanh"))
    changing = path_change(network, size, x, radius=3.0, seed=2, path=path)
    assert changing.kernel_change > 1e-4 and changing.linearity_defect > 1e-4


def test_spec_model_kernel_is_the_factorised_ntk():
    spec = LZBNet(3, 2, 6, "softplus", "sigmoid")
    weights = draw_networks(spec, 0, 1)
    theta = torch.cat([weights[n][0].reshape(-1) for n in spec.weight_shapes()])
    x = torch.tensor([[0.6, 0.0, 0.8], [0.0, 1.0, 0.0]], dtype=torch.float64)
    model, size = spec_model(spec)
    assert size == theta.numel()
    assert torch.allclose(tangent_kernel(model, theta, x)[0], ntk_gram(spec, weights, x)[0], rtol=1e-12)


def test_sweep_and_slope_shapes():
    spec = LZBNet(3, 1, 8, "tanh")
    sweep = training_sweep(spec, "synthetic", 6, (8, 32), 3, 2, seed=0)
    assert sweep.width.tolist() == [8, 8, 32, 32] and (sweep.kernel_change > 0).all()
    case = TrainingCase(spec, "synthetic", 6, (8, 16, 32), 3)
    slope = kernel_change_slope(case, MonteCarlo(n_draws=2, seed=0))
    assert slope.labels == ("slope log rel. kernel change",) and slope.n_samples == 6


def test_bad_input_is_a_clear_error():
    spec = LZBNet(3, 1, 4)
    x, labels = training_set("synthetic", 4, 3, seed=0)
    weights = draw_networks(spec, 0, 1)
    with pytest.raises(ValueError, match="steps"):
        train_square_loss(spec, weights, x, labels, steps=0)
    with pytest.raises(ValueError, match="lr_fraction"):
        train_square_loss(spec, weights, x, labels, steps=1, lr_fraction=2.0)
    with pytest.raises(ValueError, match="targets"):
        train_square_loss(spec, weights, x, labels[:3], steps=1)
    with pytest.raises(ValueError, match="W1"):
        train_square_loss(spec, {"W1": weights["W1"]}, x, labels, steps=1)
    with pytest.raises(ValueError, match="input_dim=64"):
        training_set("digits", 4, 3, seed=0)
    with pytest.raises(ValueError, match="name"):
        training_set("mnist", 4, 3, seed=0)
    with pytest.raises(ValueError, match="1797 images"):
        training_set("digits", 5000, 64, seed=0)
    with pytest.raises(ValueError, match="radius"):
        path_change(lambda t, x: t.sum() * x[:, 0], 2, x, radius=0.0, seed=0)
    with pytest.raises(ValueError, match="path"):
        path_change(lambda t, x: t.sum() * x[:, 0], 2, x, radius=1.0, seed=0, path="spiral")
    with pytest.raises(ValueError, match="activation"):
        random_features_model(2, 4, "gelu", 0)
    with pytest.raises(ValueError, match="every matrix trained"):
        spec_model(HuangFFNet(3, 2, 4))
    with pytest.raises(ValueError, match="LZBNet"):
        training_sweep(HuangFFNet(3, 2, 4, train_all=True), "synthetic", 4, (4,), 1, 1, 0)
    with pytest.raises(ValueError, match="dataset"):
        TrainingCase(spec, "mnist", 4, (4,), 1)
    with pytest.raises(ValueError, match="input_dim=64"):
        TrainingCase(spec, "digits", 4, (4,), 1)
    with pytest.raises(ValueError, match="path"):
        PathCase(spec, ((1.0, 0.0, 0.0),), 1.0, "spiral")
    with pytest.raises(ValueError, match="one label per case"):
        LossCase(("a",), ())


def test_path_change_estimates_are_deterministic_and_name_the_model():
    from estimators.training import path_change_estimates

    case = PathCase(LZBNet(2, 1, 8, "tanh"), ((0.6, 0.8), (1.0, 0.0)), 2.0, "arc")
    mc = MonteCarlo(n_draws=1, seed=3)
    linear = path_change_estimates(case, mc, "random features")
    assert linear.estimate[0] == 0.0 and (linear.standard_error == 0).all()
    network = path_change_estimates(case, mc, "LZB net")
    assert (network.estimate > 1e-8).all() and "LZB net" in network.labels[0]
    with pytest.raises(ValueError, match="model"):
        path_change_estimates(case, mc, "kernel machine")


@pytest.mark.parametrize(
    ("loss", "per_point"),
    [
        ("logistic", lambda f, y: torch.log1p(torch.exp(-y * f))),
        ("hinge", lambda f, y: torch.clamp(1 - y * f, min=0)),
    ],
)
def test_other_losses_take_the_hand_computed_step_and_decrease(loss, per_point):
    from estimators.training import train_gradient_descent

    spec = LZBNet(3, 1, 16, "tanh")
    weights = draw_networks(spec, 3, 2)
    x, labels = training_set("synthetic", 6, 3, seed=1)
    one = train_gradient_descent(spec, weights, x, labels, 1, loss, lr_fraction=0.5)
    params = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
    value = per_point(spec.apply(params, x.expand(2, -1, -1)), labels).mean(dim=1)
    grads = torch.autograd.grad(value.sum(), list(params.values()))
    moved = {k: weights[k] - one.learning_rate[:, None, None] * g for k, g in zip(params, grads, strict=True)}
    expected = per_point(spec.apply(moved, x.expand(2, -1, -1)), labels).mean(dim=1)
    assert torch.allclose(one.loss[:, 0], value.detach(), rtol=1e-12)
    assert torch.allclose(one.loss[:, 1], expected.detach(), rtol=1e-10)
    longer = train_gradient_descent(spec, weights, x, labels, 20, loss, lr_fraction=0.5)
    assert (longer.loss_ratio < 1).all()
    eigenvalues = torch.linalg.eigvalsh(ntk_gram(spec, weights, x))
    assert torch.allclose(longer.kernel_eigenvalues, eigenvalues)


def test_unknown_loss_is_a_clear_error():
    from estimators.training import train_gradient_descent

    spec = LZBNet(2, 1, 4, "tanh")
    x, labels = training_set("synthetic", 4, 2, seed=0)
    with pytest.raises(ValueError, match="loss must be one of"):
        train_gradient_descent(spec, draw_networks(spec, 0, 1), x, labels, 2, "cross_entropy")
