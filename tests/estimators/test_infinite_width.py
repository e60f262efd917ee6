"""Infinite-width NNGP/NTK of composed networks (``estimators.infinite_width``, ``models.layers.kernels``):
closed forms against exact formulas, quadrature and Monte Carlo; the combinator rules; the two
parameterisations; precision at depth 10^4; errors that name the layer and its position."""

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import multivariate_normal

from estimators import sample_ntk
from estimators.analytic import analytic_kernels, unit_circle
from estimators.infinite_width import infinite_width_kernels, readout_matrices, readout_nngp
from models.densenet import DenseNet
from models.layers import (
    HE_GAIN,
    Activation,
    BatchNorm,
    Concat,
    Conv,
    Dense,
    Erf,
    GlobalAvgPool,
    Identity,
    LayerNorm,
    ReLU,
    Repeat,
    Residual,
    SelfAttention,
    Serial,
    Softmax,
    Sum,
    Tanh,
)
from models.layers.kernels import KernelBlock, mix
from models.lzb import LZBNet
from models.network import Network
from models.resnet import HuangFFNet, LittwinResNet
from models.strategies_kernels import other_parameterization
from models.vanilla import VanillaNet
from theorems.infinite_width_agreement import KERNEL_LABELS, kernel_errors

X = np.array([[1.2, 0.0], [0.3, 0.5], [-0.4, -0.9]])  # unequal norms, one obtuse pair


def gram(x, weight_std=1.0, bias_std=0.0):
    """w^2 x.x' / d + b^2: the NNGP after one Dense layer."""
    return weight_std**2 * (x @ x.T) / x.shape[1] + bias_std**2


def gaussian_expectation(function, sigma, points=80):
    """E[function(u, u')] for (u, u') ~ N(0, sigma) by a product Gauss-Hermite rule (smooth functions; sigma
    may be singular, u = u')."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    scale = math.sqrt(sigma[0, 0])
    chol = np.array([[scale, 0.0], [sigma[1, 0] / scale, math.sqrt(max(sigma[1, 1] - sigma[1, 0] ** 2 / scale**2, 0))]])
    a, b = np.meshgrid(nodes, nodes, indexing="ij")
    u, v = chol[0, 0] * a, chol[1, 0] * a + chol[1, 1] * b
    return float((np.outer(weights, weights) * function(u, v)).sum() / (2 * math.pi))


# --- exact closed forms ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_one_dense_layer_is_the_gram_matrix_plus_bias(parameterization):
    w, b = 1.7, 0.6
    net = Network((2,), Dense(1, bias=True, weight_std=w, bias_std=b, parameterization=parameterization))
    kernels = infinite_width_kernels(net, X, parts=True)
    np.testing.assert_allclose(kernels.nngp, gram(X, w, b), rtol=1e-15)
    if parameterization == "ntk":  # dy/dZ = (w / sqrt d) x, dy/db0 = b
        expected_parts = {"dense0": gram(X, w), "dense0.b": np.full((3, 3), b**2)}
    else:  # dy/dW = x, dy/dbeta = 1
        expected_parts = {"dense0": X @ X.T, "dense0.b": np.ones((3, 3))}
    assert list(kernels.parts) == list(expected_parts)
    for name, part in expected_parts.items():
        np.testing.assert_allclose(kernels.parts[name], part, rtol=1e-15)
    np.testing.assert_allclose(kernels.ntk, sum(expected_parts.values()), rtol=1e-15)


def test_linear_net_recursion_and_untrained_layers():
    """Identity activations: Sigma_1 = w1^2 x.x'/d + b1^2, Sigma_f = w2^2 g^2 Sigma_1 + b2^2; the NTK counts
    only trained matrices, Theta_f = w2^2 g^2 (Theta_1 + Sigma_1) + b2^2 with Theta_1 = Sigma_1 or 0."""
    w1, b1, g, w2, b2 = 0.8, 0.5, 1.3, 1.4, 0.7
    for first_trained in (True, False):
        first = Dense(16, bias=True, weight_std=w1, bias_std=b1, trained=first_trained)
        net = Network((2,), Serial(first, Activation("identity", g), Dense(1, bias=True, weight_std=w2, bias_std=b2)))
        kernels = infinite_width_kernels(net, X, parts=True)
        sigma1 = gram(X, w1, b1)
        np.testing.assert_allclose(kernels.nngp, w2**2 * g**2 * sigma1 + b2**2, rtol=1e-14)
        theta1 = sigma1 if first_trained else 0.0
        np.testing.assert_allclose(kernels.ntk, w2**2 * g**2 * (theta1 + sigma1) + b2**2, rtol=1e-14)
        # every matrix has a part, trained or not; the NTK sums the trained ones
        assert set(kernels.parts) == {"dense0", "dense0.b", "dense1", "dense1.b"}
        trained = net.trained()
        np.testing.assert_allclose(kernels.ntk, sum(p for n, p in kernels.parts.items() if n in trained), rtol=1e-14)


def test_zero_input_with_a_bias():
    x = np.array([[0.0, 0.0], [0.6, 0.8]])
    net = Network((2,), Serial(Dense(8, bias=True, bias_std=0.5), ReLU(), Dense(1)))
    kernels = infinite_width_kernels(net, x)
    # the zero input's pre-activation is the bias alone, b ~ N(0, 1/4), independent of the other's N(0, 1/2 + 1/4)
    # except through the shared bias: correlation 0.25 / sqrt(0.25 * 0.75)
    expected = infinite_width_kernels(net, np.array([[1e-150, 0.0], [0.6, 0.8]])).nngp
    np.testing.assert_allclose(kernels.nngp, expected, rtol=1e-12)
    assert kernels.nngp[0, 0] == pytest.approx(0.25 / 2)


# --- activations against quadrature ------------------------------------------------------------------------------
def test_relu_step_is_the_gaussian_expectation():
    """NNGP = g^2 E[phi(u) phi(u')] (u ~ N(0, Sigma_1); quadrature over the positive quadrant, E[phi(u)^2] =
    Sigma_1(x, x) / 2 on the diagonal); NTK with both layers trained = NNGP + g^2 P(u > 0, u' > 0) Sigma_1."""
    w = 1.3
    sigma1 = gram(X, w)
    expected = np.diag(np.diag(sigma1) / 2)
    slope = np.diag(np.full(3, 0.5))
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        cov = sigma1[np.ix_([i, j], [i, j])]
        density = multivariate_normal(mean=[0, 0], cov=cov).pdf
        top = 12 * math.sqrt(cov.max())
        expected[i, j] = expected[j, i] = integrate.dblquad(
            lambda v, u, density=density: u * v * density([u, v]), 0, top, 0, top, epsabs=1e-12
        )[0]
        rho = cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])
        slope[i, j] = slope[j, i] = 0.25 + math.asin(rho) / (2 * math.pi)  # Sheppard
    for gain in (1.0, HE_GAIN, 0.7):
        kernels = infinite_width_kernels(Network((2,), Serial(Dense(32, weight_std=w), ReLU(gain), Dense(1))), X)
        np.testing.assert_allclose(kernels.nngp, gain**2 * expected, rtol=1e-7)
        np.testing.assert_allclose(kernels.ntk, gain**2 * (expected + slope * sigma1), rtol=1e-7)


@pytest.mark.parametrize("gain", [1.0, 1.8])
def test_erf_step_is_the_gaussian_expectation(gain):
    """Williams' erf kernel and its derivative kernel against a 2-d Gauss-Hermite rule (smooth integrands)."""
    from scipy.special import erf

    w, b = 1.1, 0.4
    net = Network((2,), Serial(Dense(32, bias=True, weight_std=w, bias_std=b), Erf(gain), Dense(1)))
    kernels = infinite_width_kernels(net, X)
    sigma1 = gram(X, w, b)
    for i, j in [(0, 1), (0, 2), (1, 2), (2, 2)]:
        cov = sigma1[np.ix_([i, j], [i, j])]
        value = gaussian_expectation(lambda u, v: erf(u) * erf(v), cov)
        slope = gaussian_expectation(lambda u, v: 4 / math.pi * np.exp(-(u**2) - v**2), cov)
        assert kernels.nngp[i, j] == pytest.approx(gain**2 * value, rel=1e-10)
        assert kernels.ntk[i, j] == pytest.approx(gain**2 * (value + slope * sigma1[i, j]), rel=1e-10)


# --- combinators -----------------------------------------------------------------------------------------------
def test_concat_dense_averages_the_blocks_by_width():
    """Dense over [relu(u), erf(Dense(u))] (widths n, m): Sigma = w^2 (n Sigma_relu + m Sigma_erf) / (n + m),
    one matrix per block, each NTK term its block's share."""
    n, m, w = 48, 16, 1.5
    first = Dense(n, name="first")
    concat = Network((2,), Serial(first, Concat(ReLU(), Serial(Dense(m, name="side"), Erf())), Dense(1, weight_std=w)))
    relu = infinite_width_kernels(Network((2,), Serial(first, ReLU(), Dense(1))), X, parts=True)
    erf = infinite_width_kernels(Network((2,), Serial(first, Dense(m, name="side"), Erf(), Dense(1))), X, parts=True)
    kernels = infinite_width_kernels(concat, X, parts=True)
    share = np.array([n, m]) / (n + m)
    np.testing.assert_allclose(kernels.nngp, w**2 * (share[0] * relu.nngp + share[1] * erf.nngp), rtol=1e-14)
    assert set(kernels.parts) == {"first", "side", "dense0,0", "dense0,1"}
    np.testing.assert_allclose(kernels.parts["dense0,0"], w**2 * share[0] * relu.parts["dense0"], rtol=1e-14)
    np.testing.assert_allclose(kernels.parts["dense0,1"], w**2 * share[1] * erf.parts["dense0"], rtol=1e-14)
    np.testing.assert_allclose(
        kernels.parts["first"], w**2 * (share[0] * relu.parts["first"] + share[1] * erf.parts["first"]), rtol=1e-14
    )


def test_residual_and_sum_add_kernels():
    """x + alpha b(x) and b1(x) + b2(x) with Dense-ending branches: the kernels add (alpha^2 for the branch)."""
    trunk, alpha = Dense(32, bias=True, name="trunk"), 0.6
    branch = Serial(Dense(32, name="in"), ReLU(HE_GAIN), Dense(32, bias=True, name="out"))
    other = Serial(Erf(), Dense(32, name="side"))
    head = Serial(ReLU(), Dense(1, name="head"))

    def kernels(*layers):
        return infinite_width_kernels(Network((2,), Serial(trunk, *layers, Dense(1, name="read"))), X, parts=True)

    alone, through = kernels(), kernels(branch)
    residual = kernels(Residual(branch, alpha))
    np.testing.assert_allclose(residual.nngp, alone.nngp + alpha**2 * through.nngp, rtol=1e-13)
    np.testing.assert_allclose(residual.ntk, alone.ntk + alpha**2 * through.ntk, rtol=1e-13)
    summed = kernels(Sum(branch, other))
    np.testing.assert_allclose(summed.nngp, through.nngp + kernels(other).nngp, rtol=1e-13)
    np.testing.assert_allclose(summed.ntk, through.ntk + kernels(other).ntk, rtol=1e-13)
    # a nonlinearity after a residual over a Gaussian trunk is fine (the sum of independent GPs is one)
    assert np.isfinite(kernels(Residual(branch, alpha), head).ntk).all()


def test_repeat_is_the_serial_composition():
    block = Serial(Dense(24, bias=True, weight_std=1.2), Erf(1.5))
    repeated = Network((2,), Serial(Dense(24), Erf(), Repeat(block, 3), Dense(1)))
    spelled = Network((2,), Serial(Dense(24), Erf(), block, block, block, Dense(1)))
    ours, theirs = infinite_width_kernels(repeated, X), infinite_width_kernels(spelled, X)
    np.testing.assert_array_equal(ours.nngp, theirs.nngp)
    np.testing.assert_array_equal(ours.ntk, theirs.ntk)


def test_mix_is_precise_near_rho_one():
    """The Gram of a weighted sum of kernels (a Dense over blocks, a bias, a residual) keeps 1 - rho to
    relative precision (general and proportional paths), against 50-digit arithmetic, where
    1 - Sigma(x, x') / G would lose all digits at 1 - rho = 1e-13."""
    import mpmath

    mpmath.mp.dps = 50
    gap = 1e-13
    minus, plus = np.array([[0.0, gap], [gap, 0.0]]), np.array([[2.0, 2 - gap], [2 - gap, 2.0]])

    def block(scale, spread):
        variance = np.array([scale, spread * scale])  # unequal norms
        nngp = (plus - minus) / 2 * np.sqrt(np.outer(variance, variance))
        return KernelBlock(2, 0, variance, nngp, minus, plus, nngp, {}, True)

    cases = [([block(1.0, 2.0), block(3.0, 2.0)], [1.0, 0.5], 0.0), ([block(1.0, 2.0)], [1.0], 1e-3),
             ([block(1.0, 2.0), block(2.0, 5.0)], [0.7, 1.3], 0.5), ([block(1.0, 1.0)], [2.0], 0.25)]  # fmt: skip
    for blocks, weights, bias in cases:
        _, _, new_minus, new_plus = mix(blocks, weights, bias)
        rho = 1 - mpmath.mpf(gap)
        pairs = list(zip(weights, blocks, strict=True))
        diag = [sum(w * mpmath.mpf(b.variance[i]) for w, b in pairs) + bias for i in (0, 1)]
        cross = sum(w * rho * mpmath.sqrt(mpmath.mpf(b.variance[0]) * b.variance[1]) for w, b in pairs)
        exact = 1 - (cross + bias) / mpmath.sqrt(diag[0] * diag[1])
        assert new_minus[0, 1] == pytest.approx(float(exact), rel=1e-12)
        assert new_plus[0, 1] == pytest.approx(float(2 - exact), rel=1e-15)


# --- parameterisations ----------------------------------------------------------------------------------------
def test_standard_parts_are_fan_in_over_w2_times_the_ntk_parts():
    ntk_net = Network((2,), Serial(Dense(40, bias=True, weight_std=1.3, bias_std=0.4, name="a"),
                                   Concat(Erf(), Serial(Dense(24, bias=True, bias_std=0.7, name="b"), ReLU())),
                                   Dense(1, weight_std=0.9, name="c")))  # fmt: skip
    standard_net = other_parameterization(ntk_net)
    ntk = infinite_width_kernels(ntk_net, X, parts=True)
    standard = infinite_width_kernels(standard_net, X, parts=True)
    np.testing.assert_allclose(standard.nngp, ntk.nngp, rtol=1e-15)  # the same forward law
    factors = {"a": 2 / 1.3**2, "a.b": 1 / 0.4**2, "b": 40 / 1.0, "b.b": 1 / 0.7**2,
               "c,0": 64 / 0.9**2, "c,1": 64 / 0.9**2}  # fmt: skip
    assert set(standard.parts) == set(factors)
    for name, factor in factors.items():
        np.testing.assert_allclose(standard.parts[name], factor * ntk.parts[name], rtol=1e-13)
    np.testing.assert_allclose(standard.ntk, sum(standard.parts.values()), rtol=1e-14)


# --- presets and precision --------------------------------------------------------------------------------------
def test_deep_huang_ffnet_through_its_network_matches_the_analytic_kernels():
    """Depth 10^4 through ``spec.network`` (10^4 Dense layers) against ``estimators.analytic`` (its Repeat form,
    checked against the direct recursion and 40-digit arithmetic in ``test_analytic.py``)."""
    spec = HuangFFNet(2, 10_000, 1)
    x = unit_circle([0.0, 1e-4, 0.5, 2.0, math.pi - 1e-6])
    ours, theirs = infinite_width_kernels(spec, x), analytic_kernels(spec, x)
    np.testing.assert_allclose(ours.nngp, theirs.gpk, rtol=1e-12)
    np.testing.assert_allclose(ours.ntk, theirs.ntk, rtol=1e-12)


@pytest.mark.parametrize(
    "spec",
    [
        VanillaNet(3, 2, (256, 192, 256)),
        LittwinResNet(3, 2, 2, 256, (0.5, 0.3)),
        DenseNet(3, 3, 256, 0.5),
        LZBNet(3, 2, 256, "relu", "identity"),
    ],
)
def test_presets_against_wide_monte_carlo(spec):
    """Mean of 600 wide draws vs the analytic kernels, every ``KERNEL_LABELS`` column: within 4.5 standard
    errors plus 1% (the O(L / n) finite-width bias; measured <= 0.5% at these widths)."""
    x = np.array([[1.0, 0.0, 0.0], [0.3, 0.4, -0.5]])
    draws = sample_ntk(spec, x, 600, seed=3)
    nngp = "outputs" if isinstance(spec, LZBNet) else "readout"  # LZB ends in its output activation
    errors = kernel_errors(spec, draws, infinite_width_kernels(spec, x), nngp=nngp)
    assert errors.labels == KERNEL_LABELS
    assert (np.abs(errors.estimate) <= 4.5 * errors.standard_error + 0.01).all(), errors.estimate


def test_outputs_and_readout_estimate_the_same_nngp():
    """f f' from the outputs and its conditional mean given the hidden layers (``readout_nngp``) have the same
    mean, the analytic NNGP; the readout's SD is far smaller."""
    hidden = Dense(128, bias=True, parameterization="standard", bias_std=0.5)
    net = Network((2,), Serial(hidden, Erf(1.5), Dense(1, bias=True, parameterization="standard", weight_std=1.2,
                                                       bias_std=0.3)))  # fmt: skip
    x = X[:2]
    assert readout_matrices(net) == ("dense1", "dense1.b")
    draws = sample_ntk(net, x, 6000, seed=5)
    kernels = infinite_width_kernels(net, x)
    outputs, readout = (kernel_errors(net, draws, kernels, nngp=kind) for kind in ("outputs", "readout"))
    assert (np.abs(outputs.estimate[:3]) <= 4.5 * outputs.standard_error[:3] + 0.01).all(), outputs.estimate
    assert (np.abs(readout.estimate[:3]) <= 4.5 * readout.standard_error[:3] + 0.01).all(), readout.estimate
    assert (readout.standard_error[:3] < 0.3 * outputs.standard_error[:3]).all()
    conditional = readout_nngp(net, draws)
    assert conditional.shape == (6000, 2, 2)


# --- what has no closed form -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("network", "match"),
    [
        (Network((4, 3), Serial(Conv(8, 3), GlobalAvgPool(), Dense(1))), r"for Conv at Serial\[0\]"),
        (Network((4, 3), Serial(Dense(8), GlobalAvgPool(), Dense(1))), r"Dense at Serial\[0\].*positions"),
        (Network((3,), Serial(Dense(8), LayerNorm(), Dense(1))), r"for LayerNorm at Serial\[1\]"),
        (Network((3,), Serial(Dense(8), BatchNorm(), Dense(1))), r"for BatchNorm at Serial\[1\]"),
        (Network((3,), Serial(Dense(8), Tanh(), Dense(1))), r"Activation\(fn='tanh'\) at Serial\[1\]"),
        (Network((3,), Serial(Dense(8), Activation("gelu"), Dense(1))), r"fn='gelu'"),
        (Network((3,), Serial(ReLU(), Dense(1))), r"fn='relu'\) at Serial\[0\].*not Gaussian"),
        (Network((3,), Serial(Dense(8), ReLU(), Erf(), Dense(1))), r"Serial\[2\].*not Gaussian"),
        (
            Network((3,), Serial(Dense(8), Residual(Serial(Dense(8), ReLU())), Dense(1))),
            r"Residual at Serial\[1\].*end in a Dense",
        ),
        (Network((3,), Serial(Dense(8), Sum(ReLU(), Erf()), Dense(1))), r"Sum at Serial\[1\].*branches \[0, 1\]"),
        (
            Network((3,), Serial(Dense(8), Residual(Serial(Dense(8), Tanh(), Dense(8))), Dense(1))),
            r"tanh.*Serial\[1\]\.Residual\.branch\.Serial\[1\]",
        ),
        (
            Network((3,), Serial(Dense(8), Repeat(Serial(Dense(8), Softmax()), 2), Dense(1))),
            r"Softmax at Serial\[1\]\.Repeat\[1\]\.Serial\[1\]",
        ),
        (Network((2, 3), Serial(SelfAttention(), GlobalAvgPool(), Dense(1))), r"for SelfAttention at Serial\[0\]"),
        (LZBNet(3, 2, 16, "tanh", "identity"), r"fn='tanh'"),
    ],
)
def test_layers_without_a_closed_form_are_named_with_their_position(network, match):
    with pytest.raises(ValueError, match=match):
        infinite_width_kernels(network, np.ones((2, network.input_dim)))


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ([[np.nan, 0.0]], "NaN"),
        ([[np.inf, 0.0]], "NaN or inf"),
        ([[1.0, 0.0, 0.0]], "input_dim"),
        ([["a", "b"]], "real numbers"),
        (np.ones((0, 2)), "k >= 1"),
        ([[1e200, 0.0]], "overflows"),
        ([[1e-200, 0.0]], "underflows"),
    ],
)
def test_bad_inputs_are_named(inputs, match):
    with pytest.raises(ValueError, match=match):
        infinite_width_kernels(Network((2,), Serial(Dense(4), ReLU(), Dense(1))), inputs)


def test_a_spec_without_a_network_is_refused():
    with pytest.raises(ValueError, match="Network or a preset"):
        infinite_width_kernels("HuangFFNet", [[1.0, 0.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="end in a Dense"):
        readout_matrices(Network((2,), Serial(Dense(4), ReLU(), Dense(1), Identity())))


def test_deep_relu_net_with_biases_matches_fifty_digit_arithmetic():
    """2,000 ReLU layers with biases on inputs of unequal norms (1 - rho = 3.6e-8 at the end), where the general
    ``mix`` path (variances not proportional) must keep 1 - rho to relative precision: a 50-digit recursion."""
    import mpmath

    mpmath.mp.dps = 50
    depth, w, b = 2000, 1.0, 0.05
    x = np.array([[1.0, 0.0], [0.999 * math.cos(1e-5), 0.999 * math.sin(1e-5)]])
    block = Serial(ReLU(HE_GAIN), Dense(1, bias=True, bias_std=b))
    layers = Serial(Dense(1, bias=True, bias_std=b), Repeat(block, depth))
    kernels = infinite_width_kernels(Network((2,), layers), x)
    rows = [[mpmath.mpf(float(c)) for c in row] for row in x]
    bias = mpmath.mpf(b) ** 2
    sigma = [[sum(p * q for p, q in zip(r, s, strict=True)) / 2 * w**2 + bias for s in rows] for r in rows]
    theta = [list(row) for row in sigma]
    for _ in range(depth):
        new_sigma, new_theta = [[0, 0], [0, 0]], [[0, 0], [0, 0]]
        for i in (0, 1):
            for j in (0, 1):
                scale = mpmath.sqrt(sigma[i][i] * sigma[j][j])
                angle = mpmath.acos(min(sigma[i][j] / scale, 1))
                relu = 2 * scale * (mpmath.sin(angle) + (mpmath.pi - angle) * mpmath.cos(angle)) / (2 * mpmath.pi)
                slope = 2 * (mpmath.pi - angle) / (2 * mpmath.pi)
                new_sigma[i][j] = w**2 * relu + bias
                new_theta[i][j] = w**2 * slope * theta[i][j] + new_sigma[i][j]
        sigma, theta = new_sigma, new_theta
    gap = 1 - sigma[0][1] / mpmath.sqrt(sigma[0][0] * sigma[1][1])
    assert gap < 1e-7  # 1 - rho in float64 from Sigma itself would keep 9 digits at most
    np.testing.assert_allclose(kernels.nngp, np.array(sigma, dtype=float), rtol=1e-12)
    np.testing.assert_allclose(kernels.ntk, np.array(theta, dtype=float), rtol=1e-12)
