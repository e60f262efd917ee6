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
    ntk,
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
    with pytest.raises(ValueError, match="NaN"):
        arccos_kernels(np.array([0.2, np.nan]))


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
    np.testing.assert_allclose(normalised, k1 + np.cos(angles) * k0, rtol=1e-12)


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


@pytest.mark.parametrize(
    "spec", [HuangFFNet(3, 3, 1024), HuangResNet(3, 3, 1024, 0.5), HuangResNet(3, 2, 1024, 1.0, train_all=True)]
)
def test_wide_monte_carlo_mean_matches_analytic(spec):
    x = np.array([[1.0, 0.0, 0.0], [0.3, 0.4, -0.5]])
    draws = sample_ntk(spec, x, 400, seed=7)
    gram = draws.gram.numpy()
    mean, se = gram.mean(0), gram.std(0, ddof=1) / math.sqrt(len(gram))
    expected = ntk(spec, x)
    assert (np.abs(mean - expected) < 4.5 * se + 0.01 * expected[0, 0]).all()
    v = draws.matrix_names.index("v")
    gpk_draws = draws.per_matrix_gram[:, v].numpy()
    np.testing.assert_allclose(gpk_draws.mean(0), gpk(spec, x), atol=0.03 * gpk(spec, x)[0, 0])


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="HuangFFNet and HuangResNet"):
        analytic_kernels(VanillaNet(2, 1, 8), [[1.0, 0.0]])
    with pytest.raises(ValueError, match="NaN"):
        analytic_kernels(HuangFFNet(2, 1, 8), [[np.nan, 0.0]])
    with pytest.raises(ValueError, match="nonzero"):
        analytic_kernels(HuangFFNet(2, 1, 8), [[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="input_dim"):
        analytic_kernels(HuangFFNet(2, 1, 8), [[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="depths"):
        kernels_at_depths(HuangFFNet(2, 1, 8), [[1.0, 0.0]], (3, 0))
    with pytest.raises(ValueError, match="empty"):
        kernels_at_depths(HuangFFNet(2, 1, 8), [[1.0, 0.0]], ())
    with pytest.raises(ValueError, match="angles"):
        unit_circle([0.0, np.inf])
