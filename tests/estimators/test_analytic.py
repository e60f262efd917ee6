"""Analytic GPK/NTK of Huang's FFNet and ResNet: arc-cosine kernels, stability, recursions, Monte Carlo."""

import dataclasses
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate
from scipy.stats import multivariate_normal

from estimators import sample_ntk
from estimators.analytic import (
    SERIES_BELOW,
    analytic_kernels,
    arccos_kernels,
    gpk,
    kernels_at_depths,
    normalise,
    ntk,
    ntk_at_depths,
    relu_step,
    sin_minus_t_cos,
    unit_circle,
)
from models.resnet import HuangFFNet, HuangResNet
from models.vanilla import VanillaNet


@pytest.mark.parametrize("rho", [-0.95, -0.3, 0.0, 0.5, 0.95])
def test_arccos_kernels_are_gaussian_expectations(rho):
    density = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).pdf
    k1, _ = integrate.dblquad(lambda v, u: u * v * density([u, v]), 0, 12, 0, 12, epsabs=1e-11)
    k0, k1_ours = arccos_kernels(np.array(rho))
    assert k1_ours == pytest.approx(k1, abs=1e-8)
    assert k0 == pytest.approx(0.25 + math.asin(rho) / (2 * math.pi), abs=1e-15)  # Sheppard's formula


def test_sin_minus_t_cos_matches_high_precision_across_the_series_switch():
    mpmath.mp.dps = 50
    for t in [*np.logspace(-8, math.log10(SERIES_BELOW), 25), SERIES_BELOW * 1.0001, 0.3, 2.0, math.pi]:
        exact = float(mpmath.sin(t) - t * mpmath.cos(t))
        assert float(sin_minus_t_cos(np.array(t))) == pytest.approx(exact, rel=1e-13)


@pytest.mark.parametrize("gap", [1e-14, 1e-10, 1e-6, 1e-3])
def test_arccos_kernels_are_accurate_near_plus_and_minus_one(gap):
    mpmath.mp.dps = 50
    for rho in (1 - gap, -1 + gap):
        theta = mpmath.acos(mpmath.mpf(rho))
        exact_k0 = float((mpmath.pi - theta) / (2 * mpmath.pi))
        exact_k1 = float((mpmath.sqrt(1 - mpmath.mpf(rho) ** 2) + (mpmath.pi - theta) * rho) / (2 * mpmath.pi))
        k0, k1 = arccos_kernels(np.array(rho))
        assert float(k0) == pytest.approx(exact_k0, rel=1e-9, abs=1e-300)
        assert float(k1) == pytest.approx(exact_k1, rel=1e-9, abs=1e-300)


def test_arccos_kernels_clip_rounding_and_reject_nan():
    k0, k1 = arccos_kernels(np.array([1 + 1e-15, -1 - 1e-15]))
    assert k0.tolist() == [0.5, 0.0] and k1[0] == pytest.approx(0.5) and k1[1] == 0.0


def test_ffnet_all_trained_is_the_textbook_recursion():
    x = unit_circle([0.0, 0.4, 2.0, 3.0])
    sigma = x @ x.T / 2
    # x_0 = A x / sqrt(d) is linear, so A and W_1 both see Sigma_0 before the first ReLU: Theta_0 = 2 Sigma_0
    theta = 2 * sigma
    for _ in range(7):
        scale = np.sqrt(np.outer(np.diag(sigma), np.diag(sigma)))
        k0, k1 = arccos_kernels(sigma / scale)
        sigma, theta = 2 * scale * k1, 2 * scale * k1 + theta * 2 * k0
    kernels = analytic_kernels(HuangFFNet(2, 7, 1, train_all=True), x)
    np.testing.assert_allclose(kernels.ntk, theta, rtol=1e-13)
    np.testing.assert_allclose(kernels.gpk, sigma, rtol=1e-13)


def test_fixed_first_and_last_layer_parts_and_diagonals():
    x = np.array([[0.6, 0.8, 0.0], [0.0, -1.0, 0.0]])
    ff = analytic_kernels(HuangFFNet(3, 5, 1), x)
    assert ff.trained == ("W",)
    np.testing.assert_allclose(np.diag(ff.ntk), 5 * 1.0 / 3)  # Theta_L(x, x) = L ||x||^2 / d
    np.testing.assert_allclose(ff.ntk, ff.parts["W"])
    res = analytic_kernels(HuangResNet(3, 4, 1, 1.0), x)
    assert res.trained == ("W", "V")
    np.testing.assert_allclose(np.diag(res.gpk), (1 + 1 / 16) ** 4 / 3)  # Sigma_l(x,x) = (1 + alpha^2) Sigma_{l-1}
    all_trained = analytic_kernels(HuangResNet(3, 4, 1, 1.0, train_all=True), x)
    np.testing.assert_allclose(all_trained.ntk, res.ntk + res.parts["A"] + res.parts["v"])


def test_resnet1_normalised_kernel_is_k1_plus_rho_k0():
    angles = np.linspace(0.1, math.pi, 9)
    x = unit_circle(np.concatenate([[0.0], angles]))
    normalised = analytic_kernels(HuangResNet(2, 1, 1, 0.7), x).normalised_ntk[0, 1:]
    k0, k1 = arccos_kernels(np.cos(angles))
    # atol: unit_circle(pi) = (-1, 1.2e-16) is not exactly antipodal, and its true value is -2e-17, not 0
    np.testing.assert_allclose(normalised, k1 + np.cos(angles) * k0, rtol=1e-12, atol=1e-15)


def test_kernels_are_symmetric_psd_and_stable_at_depth_ten_thousand():
    x = unit_circle(np.linspace(0, math.pi, 6))
    for spec in (HuangFFNet(2, 10_000, 1), HuangResNet(2, 10_000, 1, 0.5)):
        k = ntk(spec, x)
        assert k.dtype == np.float64 and np.isfinite(k).all()
        np.testing.assert_allclose(k, k.T, rtol=1e-14)
        assert np.linalg.eigvalsh(k).min() > -1e-9 * np.abs(k).max()
    normalised = analytic_kernels(HuangFFNet(2, 10_000, 1), x).normalised_ntk
    assert np.abs(normalised[0, 1:] - 0.25).max() < 0.003


def test_kernels_at_depths_equal_separate_runs():
    x = unit_circle([0.0, 1.0, 2.5])
    for spec in (HuangFFNet(2, 1, 1), HuangResNet(2, 1, 1, 0.8)):
        many = kernels_at_depths(spec, x, (5, 2, 17))
        assert list(many) == [5, 2, 17]
        for depth, kernels in many.items():
            single = analytic_kernels(dataclasses.replace(spec, depth=depth), x)
            np.testing.assert_allclose(kernels.ntk, single.ntk, rtol=1e-14)
            np.testing.assert_allclose(kernels.gpk, single.gpk, rtol=1e-14)


def naive_recursion(spec, x):
    """The recursion on Sigma itself (``relu_step``), as THEOREMS.md B writes it: normalised NTK (k, k)."""
    sigma = x @ x.T / x.shape[1]
    alpha2 = spec.alpha**2 if isinstance(spec, HuangResNet) else None
    parts = {"A": sigma.copy(), "W": 0 * sigma, "V": 0 * sigma}
    for _ in range(spec.depth):
        forward, derivative = relu_step(sigma)
        if alpha2 is None:
            parts = {"A": parts["A"] * derivative, "W": (parts["W"] + sigma) * derivative, "V": parts["V"]}
            sigma = forward
        else:
            factor = 1 + alpha2 * derivative
            parts = {"A": parts["A"] * factor, "W": parts["W"] * factor + alpha2 * derivative * sigma,
                     "V": parts["V"] * factor + alpha2 * forward}  # fmt: skip
            sigma = sigma + alpha2 * forward
    theta = parts["W"] + parts["V"] + (parts["A"] + sigma if spec.train_all else 0)
    return theta, sigma


@pytest.mark.parametrize(
    "spec",
    [HuangFFNet(3, 30, 1), HuangFFNet(3, 4, 1, train_all=True), HuangResNet(3, 25, 1, 0.5),
     HuangResNet(3, 7, 1, 1.0, train_all=True), HuangResNet(3, 5, 1, 0.0)],
)
def test_precise_recursion_equals_the_naive_one_on_unequal_norms(spec):
    x = np.array([[2.0, 0.0, 0.0], [0.3, 0.4, -0.5], [-1.2, 0.1, 0.2], [0.0, 0.0, 0.1]])
    theta, sigma = naive_recursion(spec, x)
    kernels = analytic_kernels(spec, x)
    np.testing.assert_allclose(kernels.ntk, theta, rtol=1e-11, atol=1e-13 * np.abs(theta).max())
    np.testing.assert_allclose(kernels.gpk, sigma, rtol=1e-11, atol=1e-13 * np.abs(sigma).max())


def mpmath_normalised_ntk(point, depth, alpha2=None):
    """Theta_L(x_0, x) / Theta_L(x_0, x_0) for x_0 = (1, 0) and the float input ``point`` (taken exactly),
    A and v fixed, in 40-digit arithmetic."""
    mpmath.mp.dps = 40
    first, second = mpmath.mpf(1) / 2, (mpmath.mpf(point[0]) ** 2 + mpmath.mpf(point[1]) ** 2) / 2
    off = mpmath.mpf(point[0]) / 2
    alpha2 = None if alpha2 is None else mpmath.mpf(alpha2)  # else 1 + alpha2 rounds in float64
    theta_diag = theta_off = mpmath.mpf(0)
    for _ in range(depth):
        scale = mpmath.sqrt(first * second)
        rho = off / scale
        supplement = mpmath.pi - mpmath.acos(rho)
        forward = 2 * scale * (mpmath.sqrt(1 - rho**2) + supplement * rho) / (2 * mpmath.pi)
        derivative = supplement / mpmath.pi
        if alpha2 is None:
            theta_diag, theta_off = theta_diag + first, (theta_off + off) * derivative
            off = forward
        else:
            theta_diag = theta_diag * (1 + alpha2) + alpha2 * 2 * first
            theta_off = theta_off * (1 + alpha2 * derivative) + alpha2 * (derivative * off + forward)
            first, second, off = first * (1 + alpha2), second * (1 + alpha2), off + alpha2 * forward
    return float(theta_off / theta_diag)


@pytest.mark.parametrize("spec", [HuangFFNet(2, 10_000, 1), HuangResNet(2, 2_000, 1, 0.5)])
def test_deep_recursion_matches_forty_digit_arithmetic(spec):
    x = unit_circle([0.0, 1e-4, 0.5, 2.0, math.pi - 1e-6])
    alpha2 = spec.alpha**2 if isinstance(spec, HuangResNet) else None
    exact = [mpmath_normalised_ntk(point, spec.depth, alpha2) for point in x[1:]]
    np.testing.assert_allclose(analytic_kernels(spec, x).normalised_ntk[0, 1:], exact, rtol=1e-12)


@pytest.mark.parametrize(
    "spec",
    [HuangFFNet(3, 1, 1024), HuangFFNet(3, 6, 1024, train_all=True), HuangResNet(3, 3, 1024, 0.5),
     HuangResNet(3, 6, 1024, 1.0), HuangResNet(3, 4, 1024, 0.0, train_all=True)],
)
def test_wide_monte_carlo_mean_matches_analytic(spec):
    """Mean of 400 draws at width 1024 vs the analytic GPK and NTK on three inputs (all 6 entries each).

    Tolerance: 4.5 standard errors (two-sided 7e-6 each, 4e-4 over the 12 entries x 5 specs) plus 0.005
    of the diagonal for the O(L / n) finite-width bias of the mean (L / n <= 6 / 1024 here; measured
    |mean - analytic| <= 0.0035 of the diagonal, all within 2.4 standard errors, at L <= 8, n = 2048)."""
    x = np.array([[1.0, 0.0, 0.0], [0.3, 0.4, -0.5], [-0.6, 0.1, 0.2]])
    draws = sample_ntk(spec, x, 400, seed=7)
    expected = analytic_kernels(spec, x)
    np.testing.assert_array_equal(gpk(spec, x), expected.gpk)
    np.testing.assert_array_equal(ntk(spec, x), expected.ntk)
    v = draws.matrix_names.index("v")
    for sample, value in ((draws.gram.numpy(), expected.ntk), (draws.per_matrix_gram[:, v].numpy(), expected.gpk)):
        mean, se = sample.mean(0), sample.std(0, ddof=1) / math.sqrt(len(sample))
        assert (np.abs(mean - value) <= 4.5 * se + 0.005 * value[0, 0]).all(), (mean - value) / se


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: analytic_kernels(VanillaNet(2, 1, 8), [[1.0, 0.0]]), "HuangFFNet and HuangResNet"),
        (lambda: analytic_kernels("HuangFFNet", [[1.0, 0.0]]), "HuangFFNet and HuangResNet"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), [[np.nan, 0.0]]), "NaN"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), [[np.inf, 0.0]]), "NaN or inf"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), [[1.0, 0.0], [0.0, 0.0]]), "nonzero"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), [[1e-200, 0.0]]), "underflows"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), [[1e200, 0.0]]), "overflows"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), [[1.0, 0.0, 0.0]]), "input_dim"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), np.ones((2, 2, 2))), "shape"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), np.ones((0, 2))), "k >= 1"),
        (lambda: analytic_kernels(HuangFFNet(2, 1, 8), [["a", "b"]]), "real numbers"),
        (lambda: kernels_at_depths(HuangFFNet(2, 1, 8), [[1.0, 0.0]], (3, 0)), "depths"),
        (lambda: kernels_at_depths(HuangFFNet(2, 1, 8), [[1.0, 0.0]], (2.5,)), "depths"),
        (lambda: kernels_at_depths(HuangFFNet(2, 1, 8), [[1.0, 0.0]], 5), "sequence"),
        (lambda: ntk_at_depths(HuangFFNet(2, 1, 8), [[1.0, 0.0]], ()), "empty"),
        (lambda: ntk(HuangResNet(2, 5000, 8, 0.0), [[1.0, 0.0]]), "overflow"),
        (lambda: normalise(np.array([[1.0, 0.5], [0.5, 0.0]])), "positive diagonal"),
        (lambda: normalise(np.ones(3)), "square"),
        (lambda: unit_circle([0.0, np.inf]), "angles"),
        (lambda: arccos_kernels(np.array([0.2, np.nan])), "NaN"),
    ],
)
def test_bad_input_names_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_depth_zero_is_rejected_by_the_spec():
    with pytest.raises(ValueError, match="depth"):
        HuangResNet(2, 0, 8, 0.5)


def test_ntk_at_depths_equals_kernels_at_depths():
    x = unit_circle([0.0, 0.7, 2.9])
    for spec in (HuangFFNet(2, 1, 1), HuangResNet(2, 1, 1, 0.6, train_all=True)):
        only = ntk_at_depths(spec, x, (4, 1, 9))
        full = kernels_at_depths(spec, x, (4, 1, 9))
        assert list(only) == [4, 1, 9]
        for depth in only:
            np.testing.assert_array_equal(only[depth], full[depth].ntk)


def direct_recursion(spec, x):
    """The former ``estimators.analytic`` implementation: Huang's recursion written out on (1 - rho, 1 + rho),
    A and v parts included; returns (gpk, parts) at the spec's depth."""
    from estimators.analytic import correlation_complements, relu_terms

    alpha2 = float(spec.depth) ** (-2 * spec.gamma) if isinstance(spec, HuangResNet) else None
    diagonal = (x**2).sum(axis=1) / x.shape[1]
    minus, plus = correlation_complements(x)
    scale, growth = np.sqrt(np.outer(diagonal, diagonal)), 1.0
    sigma = x @ x.T / x.shape[1]
    first, hidden_w, hidden_v = sigma.copy(), np.zeros_like(sigma), np.zeros_like(sigma)
    for _ in range(spec.depth):
        derivative, two_k1, one_minus_two_k1 = relu_terms(minus, plus)
        forward = two_k1 * (scale * growth)
        if alpha2 is not None:
            branch = alpha2 * derivative
            factor = 1.0 + branch
            first, hidden_w = first * factor, hidden_w * factor + branch * sigma
            hidden_v = hidden_v * factor + alpha2 * forward
            minus = (minus + alpha2 * one_minus_two_k1) / (1.0 + alpha2)
            plus = (plus + alpha2 * (1.0 + two_k1)) / (1.0 + alpha2)
            growth *= 1.0 + alpha2
        else:
            first, hidden_w = first * derivative, (hidden_w + sigma) * derivative
            minus, plus = one_minus_two_k1, 1.0 + two_k1
        sigma = (plus - minus) * (scale * (growth / 2.0))
    parts = {"A": first, "W": hidden_w} | ({"V": hidden_v} if alpha2 is not None else {}) | {"v": sigma}
    return sigma, parts


@pytest.mark.parametrize("depth", [1, 10, 1000])
@pytest.mark.parametrize("kind", ["ffnet", "resnet-0.5", "resnet-1"])
@pytest.mark.parametrize("train_all", [False, True])
def test_generic_layer_kernels_equal_the_direct_recursion(depth, kind, train_all):
    """``analytic_kernels`` (now the generic layer steps of ``models.layers.kernels``) against the direct
    recursion, every part: rtol 1e-12 plus atol 1e-13 of the diagonal. Measured (these inputs, one of unequal
    norm): FFNet <= 2e-16 of the diagonal; ResNet entries >= 5% of the diagonal <= 2.3e-13 relative, every
    entry <= 1.1e-13 of the diagonal; elementwise up to 3e-12 only on entries near 0 (GPK(x_1, x_6) = -0.016
    of the diagonal at depth 1000, gamma 1/2, where a 50-digit recursion puts the direct one 2.4e-12 off and
    the generic 6.4e-13: the direct one's Sigma = (epsilon - delta) / 2 loses relative precision near
    rho = 0, and its growth (1 + alpha^2)^l carries the rounding of 1 + alpha^2, 1e-13 at l = 1000)."""
    if kind == "ffnet":
        spec = HuangFFNet(2, depth, 1, train_all)
    else:
        spec = HuangResNet(2, depth, 1, float(kind.removeprefix("resnet-")), train_all)
    x = np.vstack([unit_circle(np.linspace(0, math.pi, 6)), [[0.3, -1.7]]])
    gpk_direct, parts = direct_recursion(spec, x)
    kernels = analytic_kernels(spec, x)
    assert list(kernels.parts) == list(parts)
    for name, value in [("gpk", gpk_direct), *parts.items()]:
        ours = kernels.gpk if name == "gpk" else kernels.parts[name]
        np.testing.assert_allclose(ours, value, rtol=1e-12, atol=1e-13 * np.abs(np.diag(value)).max(), err_msg=name)


def test_deep_ffnet_generic_equals_direct_recursion_at_depth_ten_thousand():
    x = unit_circle([0.0, 1e-4, 0.5, 2.0, math.pi - 1e-6])
    spec = HuangFFNet(2, 10_000, 1)
    gpk_direct, parts = direct_recursion(spec, x)
    kernels = analytic_kernels(spec, x)
    np.testing.assert_allclose(kernels.gpk, gpk_direct, rtol=1e-12)
    np.testing.assert_allclose(kernels.ntk, parts["W"], rtol=1e-12)


@pytest.mark.parametrize(
    "spec", [HuangFFNet(3, 7, 16), HuangFFNet(3, 4, 16, train_all=True), HuangResNet(3, 6, 16, 0.5),
             HuangResNet(3, 5, 16, 1.0, train_all=True)],
)
def test_analytic_kernels_are_the_generic_kernels_of_the_spec_network(spec):
    """``analytic_kernels`` walks the layers of ``models.presets`` as one Repeat (matrices W, V for every l, so
    no L-block network is built); ``infinite_width_kernels`` of ``spec.network`` gives the same numbers."""
    from estimators.analytic import group_of
    from estimators.infinite_width import infinite_width_kernels

    x = np.array([[1.0, 0.0, 0.0], [0.3, 0.4, -0.5], [-0.6, 0.1, 0.2]])
    ours = analytic_kernels(spec, x)
    generic = infinite_width_kernels(spec, x, parts=group_of)
    np.testing.assert_array_equal(ours.gpk, generic.nngp)
    assert list(ours.parts) == list(generic.parts)
    for name, part in generic.parts.items():
        np.testing.assert_array_equal(ours.parts[name], part)
    np.testing.assert_allclose(ours.ntk, generic.ntk, rtol=1e-15, atol=1e-16 * generic.ntk[0, 0])
