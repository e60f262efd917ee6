"""The low-rank sampler (``estimators.lowrank``): contract, exact per-draw identities, rank-deficient
inputs, and equality in law with the dense estimator (``sample_ntk``) on every architecture.

The statistical tests compare independent samples (fixed seeds, so they are deterministic): Welch
t-tests on means and two-sample KS tests, Bonferroni-corrected to a family-wise level ALPHA per test
function. A deliberately wrong backward (no (I - P_h) projection) fails the same comparison and the
exact identities, and so does a subtler one (an independent backward matrix, the gradient-independence
assumption) for the KS test: the tests have power.
"""

import numpy as np
import pytest
import scipy.stats
import torch

import estimators.lowrank as lowrank
from estimators.lowrank import (
    LowRankDense,
    LowRankWeights,
    psd_sqrt_and_pinv,
)
from estimators.ntk import NTKDraws, ntk_of_weights, sample_ntk
from estimators.sampling import BLOCK
from models import DenseNet, HuangFFNet, HuangResNet, LittwinResNet, LZBNet, Tape, VanillaNet
from models.base import LazyWeights

ALPHA = 1e-3  # family-wise false-failure rate of one statistical test function
N_DRAWS = 20_000
POWER_DRAWS = 100_000  # the independent-backward variant needs it: KS p ~ 1e-3 at 20,000, < 1e-16 here
DENSE_SEED, LOWRANK_SEED = 101, 202

SPECS = [
    VanillaNet(input_dim=3, depth=3, widths=(4, 6, 5, 4)),
    VanillaNet(input_dim=3, depth=2, widths=(16, 4, 8)),
    LittwinResNet(input_dim=3, blocks=2, branch_depth=1, width=5, alphas=(0.5, 0.25)),
    LittwinResNet(input_dim=3, blocks=2, branch_depth=3, width=4, alphas=0.5, branch_width=6),
    DenseNet(input_dim=3, depth=3, width=4),
    HuangResNet(input_dim=3, depth=3, width=4, gamma=0.5),
    HuangResNet(input_dim=3, depth=2, width=5, gamma=1.0, train_all=True),
    HuangFFNet(input_dim=3, depth=3, width=5),
    LZBNet(input_dim=3, depth=3, width=5, activation="tanh", output_activation="sigmoid"),
    LZBNet(input_dim=3, depth=3, width=6, activation="tanh", bottleneck_width=3, bottleneck_layer=2),
]
SPEC_IDS = [repr(spec) for spec in SPECS]
WRONG_TARGET = SPECS[0]  # depth 3: the wrong backward must be detected here


def two_inputs(spec):
    """x1 (unit) and x2 (norm 1.5, angle arccos 0.6 to x1): k = 2 non-parallel inputs."""
    x = torch.zeros(2, spec.input_dim, dtype=torch.float64)
    x[0, 0] = 1.0
    x[1, 0], x[1, 1] = 0.9, 1.2
    return x


def statistics(draws: NTKDraws) -> dict[str, np.ndarray]:
    """Per-draw quantities whose means are compared: f^2, f1 f2, K entries, per-matrix ||J||^2."""
    f, gram, jac = draws.outputs, draws.gram, draws.squared_jacobian_norms
    stats = {
        "f1^2": f[:, 0] ** 2,
        "f2^2": f[:, 1] ** 2,
        "f1*f2": f[:, 0] * f[:, 1],
        "K11": gram[:, 0, 0],
        "K12": gram[:, 0, 1],
        "K22": gram[:, 1, 1],
    }
    for m, name in enumerate(draws.matrix_names):
        stats[f"|J^{name}(x1)|^2"] = jac[:, m, 0]
        stats[f"|J^{name}(x2)|^2"] = jac[:, m, 1]
    return {key: value.numpy() for key, value in stats.items()}


def compare_in_law(a: NTKDraws, b: NTKDraws) -> dict[str, float]:
    """p-values: Welch t on the mean of every statistic, KS on f(x1) and K(x1, x1)."""
    sa, sb = statistics(a), statistics(b)
    pvalues = {f"mean {key}": float(scipy.stats.ttest_ind(sa[key], sb[key], equal_var=False).pvalue) for key in sa}
    pvalues["KS f(x1)"] = float(scipy.stats.ks_2samp(a.outputs[:, 0].numpy(), b.outputs[:, 0].numpy()).pvalue)
    pvalues["KS K11"] = float(scipy.stats.ks_2samp(a.gram[:, 0, 0].numpy(), b.gram[:, 0, 0].numpy()).pvalue)
    return pvalues


def rejected(pvalues: dict[str, float]) -> dict[str, float]:
    """The p-values below the Bonferroni threshold ALPHA / number of tests."""
    threshold = ALPHA / len(pvalues)
    return {key: p for key, p in pvalues.items() if not p >= threshold}  # NaN counts as a rejection


def without_projection(m, h, gram_pinv):
    """The deliberately wrong backward: D Z instead of D Z (I - P_h)."""
    return m


# --- contract ---------------------------------------------------------------------------------------------------


def test_shapes_finiteness_and_names():
    spec = SPECS[3]
    draws = sample_ntk(spec, two_inputs(spec), 300, seed=1, sampler="exact")
    assert draws.outputs.shape == (300, 2)
    assert draws.per_matrix_gram.shape == (300, len(spec.weight_shapes()), 2, 2)
    assert draws.matrix_names == tuple(spec.weight_shapes())
    assert draws.outputs.dtype == draws.per_matrix_gram.dtype == torch.float64
    assert torch.isfinite(draws.outputs).all() and torch.isfinite(draws.per_matrix_gram).all()
    assert torch.equal(draws.per_matrix_gram, draws.per_matrix_gram.transpose(-1, -2))


def test_lazy_weights_protocol_and_batch():
    spec = SPECS[0]
    weights = LowRankWeights(spec, seed=3, first_block=2, n_blocks=3)
    assert isinstance(weights, LazyWeights)
    assert weights.n_networks == 3 * BLOCK
    assert weights.keys() == list(spec.weight_shapes())
    with pytest.raises(TypeError, match="never forms"):
        weights["W0"]
    x = two_inputs(spec)
    outputs, grams = ntk_of_weights(spec, weights, x)  # x.expand(B, k, d) inside: an expanded view
    assert outputs.shape == (3 * BLOCK, 2) and grams.shape == (3 * BLOCK, 5, 2, 2)
    with pytest.raises(RuntimeError, match="already applied"):
        weights.apply_dense("W0", x)
    fresh = LowRankWeights(spec, seed=3, first_block=2, n_blocks=3)
    assert torch.equal(fresh.apply_dense("W0", x), LowRankWeights(spec, 3, 2, 3).apply_dense("W0", x.unsqueeze(0)))
    with pytest.raises(ValueError, match="expects h"):
        LowRankWeights(spec, 3, 0, 1).apply_dense("W1", x)
    with pytest.raises(KeyError):
        LowRankWeights(spec, 3, 0, 1).apply_dense("W9", x)
    with pytest.raises(ValueError, match="n_blocks"):
        LowRankWeights(spec, 3, 0, 0)


def test_determinism_chunking_and_seeds():
    spec = SPECS[4]
    x = two_inputs(spec)
    a = sample_ntk(spec, x, 2 * BLOCK + 5, seed=7, sampler="exact")
    b = sample_ntk(spec, x, 2 * BLOCK + 5, seed=7, sampler="exact", chunk_bytes=1)  # one block per chunk
    assert torch.equal(a.outputs, b.outputs) and torch.equal(a.per_matrix_gram, b.per_matrix_gram)
    c = sample_ntk(spec, x, 2 * BLOCK + 5, seed=8, sampler="exact")
    assert not torch.equal(a.outputs, c.outputs)
    assert (a.outputs != c.outputs).float().mean() > 0.9


def test_float32():
    spec = SPECS[5]
    draws = sample_ntk(spec, two_inputs(spec), 64, seed=1, dtype=torch.float32, sampler="exact")
    assert torch.isfinite(draws.per_matrix_gram).all() and draws.outputs.shape == (64, 2)


def test_backward_runs_once():
    generator = torch.Generator().manual_seed(0)

    def noise(fan):
        return torch.randn(4, 2, fan, dtype=torch.float64, generator=generator)

    h = noise(3).requires_grad_()
    y = LowRankDense.apply(h, noise(5), noise)
    y.sum().backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="once"):
        y.sum().backward()


def test_psd_sqrt_and_pinv():
    a = torch.randn(50, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    gram = a @ a.transpose(-1, -2)  # rank 2 of 3
    root, pinv = psd_sqrt_and_pinv(gram)
    torch.testing.assert_close(root @ root, gram, rtol=0, atol=1e-12)
    torch.testing.assert_close(gram @ pinv @ gram, gram, rtol=0, atol=1e-12)
    torch.testing.assert_close(pinv @ gram @ pinv, pinv, rtol=0, atol=1e-9)
    zero_root, zero_pinv = psd_sqrt_and_pinv(torch.zeros(2, 2, 2, dtype=torch.float64))
    assert torch.equal(zero_root, torch.zeros_like(zero_root)) and torch.equal(zero_pinv, torch.zeros_like(zero_pinv))


# --- exact per-draw identities -----------------------------------------------------------------------------------


def tape_pass(spec, weights, x):
    """f (B, k), the tape, and d f / d y for every recorded layer (name -> (B, k, fan_out))."""
    tape = Tape()
    with torch.enable_grad():
        f = spec.apply(weights, x.expand(weights.n_networks, *x.shape), tape)
        probes = [record.probe for record in tape.records.values()]
        grads = torch.autograd.grad(f.sum(), probes)
    return f.detach(), tape, dict(zip(tape.records, grads, strict=True))


def test_last_layer_gram_is_input_norm_over_width():
    """k = 1, vanilla: ||J^Wout||^2 = s^2 <D, D> <h, h> with D = 1, h = y^L: = ||y^L||^2 / n_L, per draw."""
    spec = VanillaNet(input_dim=3, depth=2, widths=(5, 7, 6))
    x = torch.tensor([[0.3, -1.2, 0.5]], dtype=torch.float64)
    _, grams = ntk_of_weights(spec, LowRankWeights(spec, 5, 0, 2), x)
    _, tape, _ = tape_pass(spec, LowRankWeights(spec, 5, 0, 2), x)  # same seed: the same networks
    y_last = tape.records["Wout"].inputs[:, 0]
    expected = (y_last**2).sum(-1) / 6
    torch.testing.assert_close(grams[:, -1, 0, 0], expected, rtol=1e-13, atol=0)
    assert (expected > 0).float().mean() > 0.5


def homogeneity_errors(spec, weights, x):
    """Vanilla ReLU nets are 1-homogeneous in every pre-activation: <df/dy^l(x_i), y^l(x_i)> = f(x_i).

    Holds per draw and per input for dense weights; for the low-rank sampler it holds because
    (D W) h^T = D Y^T exactly, i.e. it checks the conditional-mean and projection terms of the backward.
    Returns max |<D_l, y^l> - f| / (sum_j |D_lj y^l_j| + |f|) over draws, inputs and layers l = 0..L.
    """
    f, tape, grads = tape_pass(spec, weights, x)
    names = list(tape.records)  # W0, W1, .., WL, Wout
    errors = []
    for l in range(len(names) - 1):
        following = tape.records[names[l + 1]].inputs.detach()  # sqrt(2) relu(y^l) (l < L) or y^L
        relu_y = following / np.sqrt(2.0) if l < len(names) - 2 else following
        terms = grads[names[l]] * relu_y
        size = terms.abs().sum(-1) + f.abs()
        errors.append(((terms.sum(-1) - f).abs() / size.clamp_min(torch.finfo(size.dtype).tiny)).max())
    return max(float(e) for e in errors)


def test_homogeneity_identity_per_draw():
    spec = VanillaNet(input_dim=3, depth=3, widths=(6, 4, 5, 7))
    x = two_inputs(spec)
    assert homogeneity_errors(spec, LowRankWeights(spec, 9, 0, 2), x) < 1e-9
    assert homogeneity_errors(spec, LowRankWeights(spec, 9, 0, 2, dtype=torch.float32), x.float()) < 1e-2


def test_wrong_backward_breaks_homogeneity(monkeypatch):
    spec = VanillaNet(input_dim=3, depth=3, widths=(6, 4, 5, 7))
    monkeypatch.setattr(lowrank, "project_out", without_projection)
    assert homogeneity_errors(spec, LowRankWeights(spec, 9, 0, 2), two_inputs(spec)) > 1e-2


# --- rank-deficient inputs and layers ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[3], SPECS[4], SPECS[8]], ids=lambda s: s.kind)
def test_identical_inputs(spec):
    x = two_inputs(spec)[[0, 0]]
    draws = sample_ntk(spec, x, BLOCK, seed=4, sampler="exact")
    assert torch.isfinite(draws.outputs).all() and torch.isfinite(draws.per_matrix_gram).all()
    scale = draws.per_matrix_gram.abs().max()
    torch.testing.assert_close(draws.outputs[:, 0], draws.outputs[:, 1], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(
        draws.per_matrix_gram[..., 0, :], draws.per_matrix_gram[..., 1, :], rtol=1e-9, atol=1e-12 * scale
    )


def test_three_inputs_one_repeated():
    spec = SPECS[2]
    x = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.5], [1.0, 0.0, 0.0]], dtype=torch.float64)
    draws = sample_ntk(spec, x, BLOCK, seed=4, sampler="exact")
    assert torch.isfinite(draws.per_matrix_gram).all()
    torch.testing.assert_close(draws.gram[:, 0], draws.gram[:, 2], rtol=1e-9, atol=1e-12)


def test_zero_input():
    spec = SPECS[0]
    x = two_inputs(spec)
    x[1] = 0.0
    draws = sample_ntk(spec, x, BLOCK, seed=4, sampler="exact")
    assert torch.isfinite(draws.outputs).all() and torch.isfinite(draws.per_matrix_gram).all()
    assert torch.equal(draws.outputs[:, 1], torch.zeros(BLOCK, dtype=torch.float64))  # no biases: f(0) = 0
    assert torch.equal(draws.gram[:, 1], torch.zeros(BLOCK, 2, dtype=torch.float64))
    assert (draws.gram[:, 0, 0] > 0).any()


@pytest.mark.parametrize(
    "spec",
    [
        VanillaNet(input_dim=3, depth=4, widths=1),
        VanillaNet(input_dim=3, depth=3, widths=(4, 1, 3, 1)),
        LZBNet(input_dim=3, depth=3, width=4, activation="relu", bottleneck_width=1, bottleneck_layer=2),
        LittwinResNet(input_dim=3, blocks=2, branch_depth=2, width=1, alphas=0.5),
    ],
    ids=lambda s: repr(s),
)
def test_width_one_layers(spec):
    draws = sample_ntk(spec, two_inputs(spec), 2 * BLOCK, seed=6, sampler="exact")
    assert torch.isfinite(draws.outputs).all() and torch.isfinite(draws.per_matrix_gram).all()
    assert (draws.per_matrix_gram == 0).any() and (draws.outputs != 0).any()  # dead units, but not all of them


# --- equality in law with the dense estimator ---------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_same_law_as_dense(spec):
    x = two_inputs(spec)
    dense = sample_ntk(spec, x, N_DRAWS, DENSE_SEED, sampler="dense", device="cpu")
    ours = sample_ntk(spec, x, N_DRAWS, LOWRANK_SEED, device="cpu", sampler="exact")
    assert torch.isfinite(ours.per_matrix_gram).all()
    assert not rejected(compare_in_law(dense, ours))


class IndependentBackward(LowRankDense):
    """A subtler wrong backward, the gradient-independence assumption: D W' with W' a fresh N(0, 1) matrix
    independent of the forward pass (no conditional mean D Y^T Gram^+ h, no projection). It gets the
    means of the NTK right here; only the KS test on K(x1, x1) sees it."""

    @staticmethod
    def backward(ctx, grad_y):
        h, _, _ = ctx.saved_tensors
        d_root, _ = psd_sqrt_and_pinv(grad_y @ grad_y.transpose(-1, -2))
        return d_root @ ctx.backward_sampler(h.shape[-1]), None, None, None


@pytest.mark.parametrize("variant", ["no projection", "independent backward"])
def test_wrong_backward_is_detected(monkeypatch, variant):
    """The same comparison rejects a wrong backward on a depth-3 vanilla net (the tests have power)."""
    x = two_inputs(WRONG_TARGET)
    dense = sample_ntk(WRONG_TARGET, x, POWER_DRAWS, DENSE_SEED, sampler="dense", device="cpu")
    if variant == "no projection":
        monkeypatch.setattr(lowrank, "project_out", without_projection)
    else:
        monkeypatch.setattr(lowrank, "LowRankDense", IndependentBackward)
    wrong = sample_ntk(WRONG_TARGET, x, POWER_DRAWS, LOWRANK_SEED, device="cpu", sampler="exact")
    flagged = rejected(compare_in_law(dense, wrong))
    assert flagged
    if variant == "no projection":  # inflates the backpropagated signal: the means of K and ||J||^2 move
        assert "mean K11" in flagged and "mean |J^W0(x1)|^2" in flagged
    else:
        assert "KS K11" in flagged
