"""Path sums f_k, Jacobian norms, conditional output variances and the moment-ratio statistic.

Float64: f_k = <df/dy_k, y_k> and ||J^k||^2 agree with autograd's <W^k, df/dW^k> and ||df/dW^k||^2
to 1e-10; Euler's identity f_k = f holds pathwise where nothing bypasses W^k; the delta-method
interval of ``moment_ratio`` keeps its coverage on heavy-tailed (fourth-power) draws.
"""

import numpy as np
import pytest
import torch
from scipy.stats import binom
from scipy.stats import t as student_t

from estimators.lowrank import LowRankWeights
from estimators.pathsum import (
    bypassed_matrices,
    gaussian_moment,
    moment_ratio,
    path_sum_variance_of_weights,
    path_sums_of_weights,
    sample_output_variances,
    sample_path_sum_variances,
    sample_path_sums,
)
from estimators.sampling import draw_weights
from models import DenseNet, LittwinResNet, VanillaNet
from models.reduced import connection_graph, reduced_network

RTOL = 1e-10
SPECS = [
    VanillaNet(input_dim=3, depth=3, widths=(7, 3, 5, 4)),
    LittwinResNet(input_dim=3, blocks=2, branch_depth=1, width=5, alphas=(0.5, 0.25)),
    LittwinResNet(input_dim=3, blocks=3, branch_depth=3, width=4, alphas=(0.5, 1.0, 0.2), branch_width=6),
    DenseNet(input_dim=3, depth=3, width=4, alpha=1.5),
]
IDS = [repr(s) for s in SPECS]


def unit_inputs(dim, k=3, seed=0):
    x = torch.randn(k, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return x / x.norm(dim=1, keepdim=True)


def close(actual, expected, rtol=RTOL):
    scale = expected.abs().max().item()
    assert (actual - expected).abs().max().item() <= rtol * scale


def autograd_reference(spec, weights, x, b):
    """<W^k, df/dW^k> and ||df/dW^k||^2 of network b on each input: two (M, k) tensors."""
    params = {name: w[b].clone().requires_grad_(True) for name, w in weights.items()}
    path_sums, norms = [], []
    for x_i in x:
        out = spec.apply({n: p.unsqueeze(0) for n, p in params.items()}, x_i.view(1, 1, -1))[0, 0]
        grads = torch.autograd.grad(out, list(params.values()))
        path_sums.append(torch.stack([(p * g).sum() for p, g in zip(params.values(), grads, strict=True)]))
        norms.append(torch.stack([(g * g).sum() for g in grads]))
    return torch.stack(path_sums, 1), torch.stack(norms, 1)


@pytest.mark.parametrize(
    "spec", [*SPECS, reduced_network(SPECS[2], "W2,2"), reduced_network(SPECS[3], "W2,0")], ids=repr
)
def test_path_sums_and_jacobian_norms_match_autograd(spec):
    weights = draw_weights(spec, 11, 0, 1)
    x = unit_inputs(spec.input_dim)
    _, path_sums, norms = path_sums_of_weights(spec, weights, x)
    for b in range(3):
        reference_sums, reference_norms = autograd_reference(spec, weights, x, b)
        close(path_sums[b], reference_sums)
        close(norms[b], reference_norms)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_euler_identity_where_nothing_bypasses(spec):
    """f_k = f for every matrix no connection bypasses (all of a vanilla net; W^0, W^out of any)."""
    weights = draw_weights(spec, 2, 0, 1)
    outputs, path_sums, _ = path_sums_of_weights(spec, weights, unit_inputs(spec.input_dim))
    bypassed = bypassed_matrices(spec)
    for m, name in enumerate(spec.weight_shapes()):
        if name not in bypassed:
            close(path_sums[:, m], outputs)
    assert (bypassed == ()) == isinstance(spec, VanillaNet)


@pytest.mark.parametrize(
    ("spec", "matrix"),
    [(SPECS[1], "W1,1"), (SPECS[1], "W2,1"), (SPECS[2], "W3,2"), (SPECS[3], "W3,1")],
    ids=["resnet-m1-block1", "resnet-m1-block2", "resnet-last-block", "densenet-last-layer"],
)
def test_path_sum_is_the_reduced_output_when_no_pattern_changes(spec, matrix):
    """No ReLU downstream of W^k sees a bypassing connection (m = 1, or the last block/layer), so
    f_(k) = f_k pathwise on the same weights (hand-checked reading of Definition 1 and Eq. 12)."""
    weights = draw_weights(spec, 4, 0, 1)
    x = unit_inputs(spec.input_dim)
    _, path_sums, _ = path_sums_of_weights(spec, weights, x)
    reduced = reduced_network(spec, matrix)
    close(path_sums[:, list(spec.weight_shapes()).index(matrix)], reduced.apply(weights, x.expand(16, *x.shape)))


def test_path_sum_differs_from_the_reduced_output_when_patterns_change():
    """Block 1 of a 3-block ResNet with m = 3: later ReLUs see the skip, so f_k != f_(k) pathwise."""
    spec = SPECS[2]
    weights = draw_weights(spec, 4, 0, 1)
    x = unit_inputs(spec.input_dim)
    _, path_sums, _ = path_sums_of_weights(spec, weights, x)
    reduced = reduced_network(spec, "W1,2").apply(weights, x.expand(16, *x.shape))
    assert (path_sums[:, list(spec.weight_shapes()).index("W1,2")] - reduced).abs().max() > 1e-3


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_path_sum_variance_is_the_sum_over_output_units(spec):
    """sigma_k^2 = s_out^2 ||v_k||^2 = sum_j f_k(w_out = e_j)^2: forward-mode tangents against path sums
    with every basis output row (dense weights, 1e-10)."""
    weights = draw_weights(spec, 8, 0, 1)
    x = unit_inputs(spec.input_dim, k=2)
    graph = connection_graph(spec)
    n_out = weights["Wout"].shape[-1]
    for m, name in enumerate(spec.weight_shapes()):
        (variance,) = path_sum_variance_of_weights(graph, name, weights, x)
        total = torch.zeros_like(variance)
        for j in range(n_out):
            basis = torch.zeros_like(weights["Wout"])
            basis[..., 0, j] = 1.0
            total += path_sums_of_weights(spec, dict(weights) | {"Wout": basis}, x)[1][:, m] ** 2
        close(variance, total)


def test_path_sum_variances_sample_the_dense_law():
    """E[sigma_k^2] and E[sigma_k^4] of the exact sampler (tangent rows sampled jointly) match dense draws."""
    spec = SPECS[2]
    x = unit_inputs(spec.input_dim, k=1)
    dense = sample_path_sum_variances(spec, "W1,2", x, 8_000, 1, sampler="dense", device="cpu")[:, 0].numpy()
    exact = sample_path_sum_variances(spec, "W1,2", x, 8_000, 2, sampler="exact", device="cpu")[:, 0].numpy()
    for p in (1, 2):
        ratio = moment_ratio(exact**p, dense**p, ("W1,2",))
        assert abs(ratio.estimate[0] - 1) < 5 * ratio.standard_error[0], ratio
    with pytest.raises(ValueError, match="no weight matrix 'W9'"):
        sample_path_sum_variances(spec, "W9", x, 8, 1)


@pytest.mark.parametrize("sampler", ["dense", "exact"])
def test_output_variance_is_the_output_rows_jacobian_norm(sampler):
    """sigma^2 = s^2 ||h_out||^2 = ||J^out||^2 on the same draws (same seed and sampler)."""
    spec = SPECS[2]
    x = unit_inputs(spec.input_dim, k=2)
    draws = sample_path_sums(spec, x, 40, 9, sampler=sampler, device="cpu")
    variances = sample_output_variances(spec, x, 40, 9, sampler=sampler, device="cpu")
    close(variances, draws.squared_jacobian_norms[:, -1])


def test_sampling_is_chunk_invariant_and_matches_the_weights():
    spec = SPECS[3]
    x = unit_inputs(spec.input_dim, k=2)
    small = sample_path_sums(spec, x, 50, 5, sampler="exact", device="cpu", chunk_bytes=1)
    large = sample_path_sums(spec, x, 50, 5, sampler="exact", device="cpu")
    assert torch.equal(small.path_sums, large.path_sums)
    assert small.path_sums.shape == (50, len(spec.weight_shapes()), 2)
    lazy = path_sums_of_weights(spec, LowRankWeights(spec, 5, 0, 4), x)
    assert torch.equal(lazy[1][:50], large.path_sums)


def test_exact_sampler_has_the_dense_law_of_path_sums():
    """E[f_k^2] and E[f_k^4] under both samplers agree (independent draws; 5 SE, two-sided)."""
    spec = SPECS[2]
    x = unit_inputs(spec.input_dim, k=1)
    dense = sample_path_sums(spec, x, 20_000, 1, sampler="dense", device="cpu").path_sums[:, :, 0].numpy()
    exact = sample_path_sums(spec, x, 20_000, 2, sampler="exact", device="cpu").path_sums[:, :, 0].numpy()
    labels = tuple(spec.weight_shapes())
    for p in (2, 4):
        ratio = moment_ratio(exact**p, dense**p, labels)
        assert (np.abs(ratio.estimate - 1) < 5 * ratio.standard_error).all(), ratio


def tail_rates(rng, paired, raw, n_draws=4_000, replications=3_000, sigma=0.35, level=0.025):
    """Fractions of replications whose one-sided t-tests at ``level`` reject the true ratio 1 from below
    and from above. Draws: sigma^4 with a log-normal scale sigma (log-sd 0.35: relative variance of
    sigma^4 about 6, the heaviest seen in the claims' draw ranges) over 3 sigma'^4 / 3, i.e. the
    Rao-Blackwellised E[f^4] / E[f^4]; ``raw`` uses f^4 = (z sigma)^4 in the numerator instead. ``paired``:
    sigma and sigma' share part of their log (0.8^2 + 0.6^2 = 1), as two quantities of the same networks."""
    below = above = 0
    critical = student_t.ppf(1 - level, n_draws - 1)
    for _ in range(replications // 100):
        shared = 0.8 * sigma * rng.standard_normal((n_draws, 100)) if paired else 0.0  # same networks: correlated
        own = 0.6 * sigma if paired else sigma
        scale = np.exp(shared + own * rng.standard_normal((n_draws, 100)))
        other = np.exp(shared + own * rng.standard_normal((n_draws, 100)))
        numerator = (rng.standard_normal((n_draws, 100)) * scale) ** 4 if raw else 3 * scale**4
        result = moment_ratio(numerator, 3 * other**4, tuple(map(str, range(100))), root=4)
        t_statistic = (result.estimate - 1) / result.standard_error
        below, above = below + int((t_statistic < -critical).sum()), above + int((t_statistic > critical).sum())
    return below / replications, above / replications


@pytest.mark.parametrize("level", [0.025, 0.01])
@pytest.mark.parametrize("paired", [False, True])
def test_moment_ratio_levels_on_rao_blackwellised_fourth_powers(paired, level):
    """Each one-sided test keeps its level (at most 1.5x nominal, binomial p < 0.001) on the heavy-tailed
    fourth powers the claims compare, at 4,000 draws (the claims use 10x more)."""
    below, above = tail_rates(np.random.default_rng(7 + paired), paired, raw=False, level=level)
    bound = binom.ppf(0.999, 3_000, 1.5 * level) / 3_000
    assert below <= bound and above <= bound, (below, above, bound)


def test_raw_fourth_powers_under_cover_from_below():
    """Why the claims Rao-Blackwellise: with a raw f^4 numerator the t-test is shown 'below' about twice as
    often as its level (the sample mean of a right-skewed draw is usually low, its SE too)."""
    below, above = tail_rates(np.random.default_rng(3), paired=False, raw=True)
    assert below > 1.5 * 0.025 > above, (below, above)


def test_moment_ratio_root_is_the_lp_norm_ratio():
    a, b = np.array([1.0, 3.0, 5.0, 7.0]), np.array([1.0, 1.0, 1.0, 1.0])
    plain, rooted = moment_ratio(a, b, ("x",)), moment_ratio(a, b, ("x",), root=2)
    assert plain.estimate[0] == pytest.approx(4.0)
    assert rooted.estimate[0] == pytest.approx(2.0)
    assert rooted.standard_error[0] == pytest.approx(plain.standard_error[0] / 4.0)
    assert plain.dof[0] == 3 and plain.n_samples == 4


@pytest.mark.parametrize(
    ("numerator", "denominator", "kwargs", "message"),
    [
        (np.ones((5, 2)), np.ones((5, 3)), {}, "numerator and denominator"),
        (np.ones((2, 1)), np.ones((2, 1)), {}, "at least 3"),
        (np.array([1.0, np.nan, 2.0]), np.ones(3), {}, "NaN"),
        (np.ones(3), np.zeros(3), {}, "mean\\(denominator\\)"),
        (-np.ones(3), np.ones(3), {}, "positive ratio"),
        (np.ones(3), np.ones(3), {"root": 0}, "root"),
        (np.ones(3), np.ones(3), {"root": float("inf")}, "root"),
    ],
)
def test_moment_ratio_bad_input(numerator, denominator, kwargs, message):
    with pytest.raises(ValueError, match=message):
        moment_ratio(
            numerator, denominator, ("x", "y")[: 1 if np.ndim(numerator) == 1 else numerator.shape[1]], **kwargs
        )


def test_gaussian_moment():
    assert [gaussian_moment(p) for p in (2, 4, 6)] == [1.0, 3.0, 15.0]
    for bad in (0, 3, 2.0, True):
        with pytest.raises(ValueError, match=r"gaussian_moment\.p"):
            gaussian_moment(bad)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_draws": 0}, "n_draws"),
        ({"seed": 1.5}, "seed"),
        ({"sampler": "fancy"}, "sampler"),
        ({"dtype": torch.int64}, "dtype"),
        ({"inputs": [[float("nan"), 0.0, 1.0]]}, "NaN"),
    ],
)
def test_sample_path_sums_bad_input(kwargs, message):
    arguments = {"inputs": [[1.0, 0.0, 0.0]], "n_draws": 4, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        sample_path_sums(SPECS[0], device="cpu", **arguments)
