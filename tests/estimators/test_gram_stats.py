"""The Gram-statistics sampler (estimators/gram_stats.py): its pieces are exact, its rank-deficient
and degenerate cases stay finite and exact, its draws do not depend on chunking, and its depth sweep
has each depth's law. The full law against dense weights is a claim (theorems/stats_sampler_agreement.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import ttest_ind

from estimators import sample_ntk
from estimators.gram_stats import (
    SUPER_BLOCK,
    BlockRandom,
    LayerStats,
    ResidualCoordinates,
    psd_factors,
    resnet_depth_sweep_stats,
    symmetric_eigh,
    truncated,
)
from estimators.ntk import sample_ntk_depths
from models.densenet import DenseNet
from models.resnet import HuangResNet, LittwinResNet
from models.vanilla import VanillaNet

X = ((0.6, 0.8, 0.0), (0.0, 0.6, -0.8))
CPU = torch.device("cpu")
SPECS = [
    VanillaNet(3, 3, (4, 3, 6, 5)),
    LittwinResNet(3, 2, 2, 4, (0.5, 0.3), 3),
    LittwinResNet(3, 2, 3, 3, (0.9, 0.2)),
    DenseNet(3, 3, 4, 0.7),
]


def test_closed_form_eigh_matches_lapack_and_keeps_axes_exact() -> None:
    gram = torch.randn(500, 2, 3, dtype=torch.float64)
    gram = gram @ gram.transpose(-1, -2)
    special = [[[0.0, 0.0], [0.0, 3.0]], [[2.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]]
    gram[:4] = torch.tensor(special)
    evals, evecs = symmetric_eigh(gram)
    assert torch.allclose(evals, torch.linalg.eigvalsh(gram), atol=1e-12)
    assert torch.allclose((evecs * evals.unsqueeze(-2)) @ evecs.transpose(-1, -2), gram, atol=1e-12)
    root, pinv, projector, rank = psd_factors(gram)
    assert rank[:4].tolist() == [1, 1, 1, 0] and bool((rank[4:] == 2).all())
    assert torch.allclose(root @ root, gram, atol=1e-12) and torch.allclose(gram @ pinv @ gram, gram, atol=1e-10)
    assert torch.equal(root[0], torch.tensor([[0.0, 0.0], [0.0, math.sqrt(3.0)]], dtype=torch.float64))  # exact 0s
    assert torch.equal(projector[1], torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64))


def test_layer_statistics_are_the_group_sums() -> None:
    u = torch.randn(7, 2, 50, dtype=torch.float64)
    stats = LayerStats.of(u)
    pattern = (u[:, 0] > 0).long() + 2 * (u[:, 1] > 0).long()
    for p in range(4):
        member = (pattern == p).to(u.dtype)
        assert torch.allclose(stats.second[:, p], torch.einsum("bin,bjn,bn->bij", u, u, member))
        assert torch.equal(stats.counts[:, p], member.sum(dim=1))
    assert torch.allclose(stats.gram_q(), 2 * torch.relu(u) @ torch.relu(u).transpose(-1, -2))


@pytest.mark.parametrize("df", [0, 1, 2, 7])
def test_bartlett_factor_has_the_wishart_mean_and_zero_rows_past_df(df: int) -> None:
    """E[T^T T] = df I for Wishart_2(df, I); T's row i is 0 when df <= i. 256 * 64 draws, fixed seed:
    each entry's mean within 5 standard errors."""
    rand = BlockRandom(5, 0, 64 * SUPER_BLOCK // 16, torch.float64, CPU)
    t = rand.bartlett(torch.full((rand.n_networks,), df), 2)
    wishart = (t.transpose(-1, -2) @ t).numpy()
    mean, se = wishart.mean(axis=0), wishart.std(axis=0) / math.sqrt(len(wishart)) + 1e-12
    assert np.all(np.abs(mean - df * np.eye(2)) <= 5 * se)
    for row in range(2):
        if df <= row:
            assert torch.equal(t[:, row], torch.zeros_like(t[:, row]))


def test_trunk_coordinates_have_the_gaussian_grams_and_respect_the_width() -> None:
    """Fresh families G R (width N): E[v^T v] = N Sigma, E[v^T v'] = 0; with N = 2 < 3 families of k = 1 the
    third lies in the span of the first two (no third direction), and its norm is still chi^2_2."""
    rand = BlockRandom(1, 0, 64, torch.float64, CPU)
    trunk = ResidualCoordinates(2, 3, rand)
    ones = torch.ones(rand.n_networks, 1, 1, dtype=torch.float64)
    first, second, third = trunk.fresh(ones), trunk.fresh(3.0 * ones), trunk.fresh(ones)
    assert torch.equal(third[:, 2], torch.zeros_like(third[:, 2]))
    for v, w, expected in [(first, first, 2.0), (second, second, 6.0), (third, third, 2.0), (first, second, 0.0)]:
        inner = (v.transpose(-1, -2) @ w)[:, 0, 0].numpy()
        assert abs(inner.mean() - expected) <= 5 * inner.std() / math.sqrt(len(inner))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_identical_inputs_give_identical_kernel_entries(spec: object) -> None:
    """x = x': every Gram is rank 1, so K(x, x) = K(x, x') = K(x', x') draw by draw (pseudo-inverses, never NaN)."""
    draws = sample_ntk(spec, (X[0], X[0]), 64, 3, sampler="stats")
    gram = draws.per_matrix_gram
    assert torch.isfinite(gram).all() and torch.isfinite(draws.outputs).all()
    assert torch.allclose(gram[..., 0, 1], gram[..., 0, 0], rtol=1e-9, atol=1e-12)
    assert torch.allclose(gram[..., 1, 1], gram[..., 0, 0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_a_zero_input_gives_exact_zeros(spec: object) -> None:
    draws = sample_ntk(spec, (X[0], (0.0, 0.0, 0.0)), 64, 3, sampler="stats")
    assert torch.isfinite(draws.per_matrix_gram).all()
    assert torch.equal(draws.outputs[:, 1], torch.zeros(64, dtype=torch.float64))
    assert bool((draws.squared_jacobian_norms[:, -1, 1] == 0).all())  # W^out reads y^L(0) = 0


def test_dead_inputs_are_exact_zeros_as_often_as_under_the_exact_sampler() -> None:
    """A width-3 layer kills input x1 in ~14% of networks: K(x1, x1) must then be exactly 0 (not 1e-34 from
    rounding, which revives the input downstream). Fractions of exact zeros agree (two-proportion z, |z| < 4.5)."""
    spec = VanillaNet(3, 3, (6, 3, 8, 16))
    inputs = ((-0.2387, 0.0, -0.9711), (-0.0001, -1.0, 0.0))
    ours = sample_ntk(spec, inputs, 20_000, 1, sampler="stats").gram[:, 0, 0].numpy()
    reference = sample_ntk(spec, inputs, 20_000, 2, sampler="exact").gram[:, 0, 0].numpy()
    p1, p2 = (ours == 0).mean(), (reference == 0).mean()
    pooled = (p1 + p2) / 2
    assert p2 > 0.05 and abs(p1 - p2) < 4.5 * math.sqrt(2 * pooled * (1 - pooled) / 20_000)


def test_width_one_and_narrow_layers_stay_finite() -> None:
    for spec in [VanillaNet(3, 2, (1, 1, 1)), LittwinResNet(3, 3, 2, 1, 0.5, 1), DenseNet(3, 2, 1)]:
        draws = sample_ntk(spec, X, 64, 0, sampler="stats")
        assert torch.isfinite(draws.per_matrix_gram).all() and bool((draws.squared_jacobian_norms >= 0).all())


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_draws_do_not_depend_on_chunking_or_on_how_many_are_drawn(spec: object) -> None:
    many = sample_ntk(spec, X, 600, 9, sampler="stats")
    chunked = sample_ntk(spec, X, 600, 9, sampler="stats", chunk_bytes=1)
    few = sample_ntk(spec, X, 100, 9, sampler="stats")
    assert torch.equal(many.per_matrix_gram, chunked.per_matrix_gram) and torch.equal(many.outputs, chunked.outputs)
    assert torch.equal(few.per_matrix_gram, many.per_matrix_gram[:100])
    assert not torch.equal(few.outputs, sample_ntk(spec, X, 100, 10, sampler="stats").outputs)


@pytest.mark.parametrize("spec", [VanillaNet(3, 4, (6, 5, 7, 6, 8)), DenseNet(3, 4, 6, 0.5)], ids=["vanilla", "dense"])
def test_depth_sweep_has_each_depths_law(spec: VanillaNet | DenseNet) -> None:
    """``sample_ntk_depths``: at every depth L, E[K] and E[K^2] (diagonal and off-diagonal) match the
    exact sampler on ``truncated(spec, L)``; Welch, 40,000 draws each, Bonferroni at 0.001 (fixed seeds)."""
    sweep = sample_ntk_depths(spec, X, 40_000, 1, [1, 2, 4])
    p_values = []
    for depth, draws in sweep.items():
        assert draws.matrix_names == tuple(truncated(spec, depth).weight_shapes())
        reference = sample_ntk(truncated(spec, depth), X, 40_000, 2, sampler="exact").gram.numpy()
        ours = draws.gram.numpy()
        p_values += [
            ttest_ind(ours[:, 0, j] ** power, reference[:, 0, j] ** power, equal_var=False).pvalue
            for j in (0, 1)
            for power in (1, 2)
        ]
    assert min(p_values) > 0.001 / len(p_values)


def test_resnet_depth_sweep_has_each_depths_law() -> None:
    """``resnet_depth_sweep_stats`` (all depths at once, shared hidden draws, trunk as forward coordinates plus a
    k x k factor): at L = 1, 2, 4 (alpha_L = 0.5 / L) f(x1)^2, K(x1, x1), K(x1, x2) and K^2 match the exact sampler
    on ``LittwinResNet(3, L, 2, 14, alpha_L)``; Welch, 16,384 draws each, Bonferroni at 0.001 (fixed seeds)."""
    x = torch.tensor(X, dtype=torch.float64)
    depths, alphas = [1, 2, 4], [0.5, 0.25, 0.125]
    blocks = [BlockRandom(3, 16 * c, 16, torch.float64, CPU) for c in range(64)]
    parts = [resnet_depth_sweep_stats(3, 14, alphas, depths, x, rand) for rand in blocks]
    outputs, ntk = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
    p_values = []
    for i, depth in enumerate(depths):
        reference = sample_ntk(LittwinResNet(3, depth, 2, 14, alphas[i]), X, len(ntk), 7, sampler="exact")
        pairs = [(outputs[:, i, 0] ** 2, reference.outputs[:, 0] ** 2)]
        pairs += [(ntk[:, i, 0, j] ** power, reference.gram[:, 0, j] ** power) for j in (0, 1) for power in (1, 2)]
        p_values += [ttest_ind(ours.numpy(), theirs.numpy(), equal_var=False).pvalue for ours, theirs in pairs]
    assert torch.isfinite(ntk).all() and min(p_values) > 0.001 / len(p_values)


def test_resnet_depth_sweep_refuses_what_it_cannot_represent() -> None:
    x = torch.tensor(X, dtype=torch.float64)
    rand = BlockRandom(0, 0, 16, torch.float64, CPU)
    with pytest.raises(ValueError, match="width >= k"):
        resnet_depth_sweep_stats(3, 8, [0.5, 0.5], [1, 3], x, rand)
    with pytest.raises(ValueError, match="k = 2 inputs"):
        resnet_depth_sweep_stats(3, 30, [0.5], [1], x[:1], rand)


def test_float32_runs_and_agrees_in_mean() -> None:
    spec = SPECS[1]
    ours = sample_ntk(spec, X, 20_000, 4, sampler="stats", dtype=torch.float32).gram[:, 0, 0].numpy()
    reference = sample_ntk(spec, X, 20_000, 5, sampler="exact").gram[:, 0, 0].numpy()
    assert ttest_ind(ours, reference, equal_var=False).pvalue > 0.001


@pytest.mark.parametrize(
    ("spec", "inputs", "message"),
    [
        (HuangResNet(3, 2, 4, 0.5), X, "sampler 'stats' covers"),
        (LittwinResNet(3, 2, 1, 4, 0.5), X, "branch_depth 1"),
        (VanillaNet(3, 1, 4), [X[0]] * 9, "k <= 8"),
    ],
)
def test_unsupported_specs_and_inputs_are_refused_by_name(spec: object, inputs: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sample_ntk(spec, inputs, 16, 0, sampler="stats")


def test_depth_sweep_refuses_resnets_and_bad_depths() -> None:
    with pytest.raises(ValueError, match="VanillaNet or DenseNet"):
        sample_ntk_depths(SPECS[1], X, 16, 0, [1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"depths must be ints in 1\.\.3"):
        sample_ntk_depths(SPECS[0], X, 16, 0, [0, 2])  # type: ignore[arg-type]
