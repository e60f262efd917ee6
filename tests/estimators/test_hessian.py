"""The Lanczos Hessian norm, gradient norm and NTK of estimators/hessian.py against dense references."""

import dataclasses

import pytest
import torch

from estimators.hessian import (
    LanczosNotConverged,
    _compressed_hvp,
    _range_subspace,
    _single_input,
    draw_networks,
    gradient,
    gradient_norm,
    hessian_spectral_norm,
    hessian_vector_product,
    lanczos_extreme,
    ntk_gram,
    random_direction,
    shifted,
    sweep_widths,
)
from estimators.sampling import derive_seed
from models.base import ArchitectureSpec, dense
from models.lzb import LZBNet
from models.resnet import HuangFFNet

X = [[0.6, 0.0, 0.8]]


def flat_function(spec, weights, b, x=X):
    """f(theta) of network b for a flat theta, and theta itself (for torch.autograd.functional)."""
    shapes = spec.weight_shapes()
    theta = torch.cat([weights[n][b].reshape(-1) for n in shapes])

    def f(t):
        parts, offset = {}, 0
        for name, (o, i) in shapes.items():
            parts[name] = t[offset : offset + o * i].view(1, o, i)
            offset += o * i
        return spec.apply(parts, torch.tensor(x, dtype=torch.float64)[None])[0, 0]

    return f, theta


@pytest.mark.parametrize("activation", ["tanh", "relu", "softplus", "sigmoid"])
@pytest.mark.parametrize("output", ["identity", "softplus", "sigmoid"])
@pytest.mark.parametrize("bottleneck", [None, 2])
def test_spectral_norm_matches_dense_hessian(activation, output, bottleneck):
    spec = LZBNet(3, 3, 5, activation, output, bottleneck, 2)
    weights = draw_networks(spec, 11, 3)
    result = hessian_spectral_norm(spec, weights, X, seed=1, rtol=1e-10)
    for b in range(3):
        f, theta = flat_function(spec, weights, b)
        eigenvalues = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, theta))
        dominant = eigenvalues[eigenvalues.abs().argmax()]
        assert abs(result.norm[b] - dominant.abs()) <= 1e-8 * max(1.0, float(dominant.abs()))
        if eigenvalues.max() + eigenvalues.min() != 0:  # no +- tie: the sign is determined
            assert abs(result.eigenvalue[b] - dominant) <= 1e-8 * max(1.0, float(dominant.abs()))
    assert result.converged.all() and (result.residual <= 1e-10 * result.norm).all()


def test_spectral_norm_is_largest_modulus_not_largest_eigenvalue():
    """Networks whose dominant eigenvalue is negative: max |lambda| is found, not max lambda."""
    spec = LZBNet(3, 3, 5, "tanh", "identity", 2, 2)
    weights = draw_networks(spec, 11, 3)
    result = hessian_spectral_norm(spec, weights, X, seed=1, rtol=1e-10)
    negative = 0
    for b in range(3):
        f, theta = flat_function(spec, weights, b)
        eigenvalues = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, theta))
        if -eigenvalues.min() > eigenvalues.max() * (1 + 1e-3):
            negative += 1
            assert result.eigenvalue[b] < 0 and abs(result.norm[b] + eigenvalues.min()) < 1e-8
            assert result.norm[b] > eigenvalues.max() * (1 + 1e-3)
    assert negative >= 2  # networks 1 and 2 of this seed (checked against the dense spectrum)


@pytest.mark.parametrize("output", ["identity", "softplus"])
def test_spectral_norm_matches_dense_away_from_init(output):
    """At w0 + R u (a ball point) and at a point with O(1) weights shifted along grad f."""
    spec = LZBNet(2, 2, 6, "softplus", output)
    weights = draw_networks(spec, 4, 2)
    along_gradient = shifted(weights, gradient(spec, weights, X[0][:2]), 1.0)
    for point in (shifted(weights, random_direction(weights, 9), 3.0), along_gradient):
        result = hessian_spectral_norm(spec, point, [X[0][:2]], rtol=1e-10)
        for b in range(2):
            f, theta = flat_function(spec, point, b, [X[0][:2]])
            dense = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, theta)).abs().max()
            assert abs(result.norm[b] - dense) <= 1e-8 * max(1.0, float(dense))


def test_compressed_operator_is_the_hessian_on_the_range_subspace():
    """E^T H E c = the compressed HVP, with E the isometry onto S, and H v lies in S for any v."""
    spec = LZBNet(3, 2, 5, "tanh", "sigmoid", 3, 1)
    weights = draw_networks(spec, 2, 2)
    inputs = _single_input(spec, X, 2)
    subspace, _ = _range_subspace(spec, weights, inputs)
    operator = _compressed_hvp(spec, weights, inputs, subspace)
    dim = sum(subspace.e_delta[n].shape[1] + subspace.e_h[n].shape[1] for n in subspace.names)
    c = subspace.project(torch.randn(2, dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    expanded = subspace.expand(c)
    assert torch.allclose(subspace.compress(expanded), c, atol=1e-12)  # E^T E = I on S
    full = hessian_vector_product(spec, weights, X, expanded)
    assert torch.allclose(subspace.compress(full), operator(c), atol=1e-12)
    tangent = draw_networks(spec, 8, 2)  # an arbitrary v: H v in S, so E E^T H v = H v
    product = hessian_vector_product(spec, weights, X, tangent)
    back = subspace.expand(subspace.compress(product))
    for name in product:
        assert torch.allclose(back[name], product[name], atol=1e-12)


def test_unconverged_lanczos_raises_unless_allowed():
    spec = LZBNet(3, 2, 32, "tanh")
    weights = draw_networks(spec, 0, 2)
    with pytest.raises(LanczosNotConverged, match="max_iter"):
        hessian_spectral_norm(spec, weights, X, max_iter=2, rtol=1e-10)
    result = hessian_spectral_norm(spec, weights, X, max_iter=2, rtol=1e-10, allow_unconverged=True)
    assert not result.converged.any() and (result.residual > 1e-10 * result.norm).all()
    assert result.iterations == 2


def test_start_vector_does_not_change_the_norm():
    spec = LZBNet(3, 3, 64, "relu")
    weights = draw_networks(spec, 6, 3)
    first = hessian_spectral_norm(spec, weights, X, seed=0, rtol=1e-8)
    second = hessian_spectral_norm(spec, weights, X, seed=1, rtol=1e-8)
    assert torch.allclose(first.norm, second.norm, rtol=1e-7)


def test_float32_weights_are_computed_in_float64():
    spec = LZBNet(3, 2, 6, "tanh")
    weights = draw_networks(spec, 1, 2)
    single = {k: v.float() for k, v in weights.items()}
    result = hessian_spectral_norm(spec, single, X, rtol=1e-10)
    assert result.norm.dtype == torch.float64
    reference = hessian_spectral_norm(spec, {k: v.double() for k, v in single.items()}, X, rtol=1e-10)
    assert torch.equal(result.norm, reference.norm)


def test_hessian_vector_product_and_gradient_match_dense():
    spec = LZBNet(2, 2, 4, "tanh", "softplus")
    weights = draw_networks(spec, 3, 2)
    tangent = draw_networks(spec, 4, 2)
    product = hessian_vector_product(spec, weights, X[0][:2], tangent)
    for b in range(2):
        f, theta = flat_function(spec, weights, b, [X[0][:2]])
        hessian = torch.autograd.functional.hessian(f, theta)
        v = torch.cat([tangent[n][b].reshape(-1) for n in spec.weight_shapes()])
        ours = torch.cat([product[n][b].reshape(-1) for n in spec.weight_shapes()])
        assert torch.allclose(ours, hessian @ v, atol=1e-10, rtol=1e-10)
        gradient = torch.autograd.functional.jacobian(f, theta)
        assert abs(gradient_norm(spec, weights, [X[0][:2]])[b] - gradient.norm()) < 1e-10


@pytest.mark.parametrize(
    "spectrum, dominant",
    [
        ([-3.0, 1.0, 2.0, 2.9] + [0.5] * 46, -3.0),  # largest algebraic (2.9) is not the largest modulus
        ([3.0, -2.99, 1.0, *torch.linspace(-2, 2, 47).tolist()], 3.0),  # near +- tie
        ([-1e-3, 5e-4] + [0.0] * 48, -1e-3),  # tiny norm: the criterion is relative
    ],
)
def test_lanczos_on_a_known_spectrum_reports_residual(spectrum, dominant):
    basis = torch.linalg.qr(torch.randn(50, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
    matrix = basis @ torch.diag(torch.tensor(spectrum, dtype=torch.float64)) @ basis.T
    start = torch.randn(1, 50, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ritz, vector, residual, iterations = lanczos_extreme(lambda v: v @ matrix, start, rtol=1e-9)
    assert abs(float(ritz) - dominant) < 1e-8 * abs(dominant) and iterations <= 50
    recomputed = float((vector @ matrix - ritz * vector).norm())
    assert recomputed <= 1e-9 * abs(dominant) and float(residual) <= 0.5e-9 * abs(dominant)


def test_ntk_gram_diagonal_is_squared_gradient_norm():
    spec = LZBNet(3, 2, 6, "softplus")
    weights = draw_networks(spec, 5, 4)
    assert torch.allclose(ntk_gram(spec, weights, X)[:, 0, 0], gradient_norm(spec, weights, X) ** 2)


def test_sweep_shapes_and_linear_output_scaling():
    spec = LZBNet(3, 1, 16, "relu")
    sweep = sweep_widths(spec, X, (16, 64), 2, seed=0, radius=1.0, preoutput_hessian=True)
    assert sweep.width.tolist() == [16, 16, 64, 64]
    # depth-1 ReLU: H = [[0, B], [B^T, 0]] with B_i = relu'(y_i) x / sqrt(d m) (v_i with W_i), so
    # ||H|| = |x| / sqrt(d m) exactly, at w0 and at every point keeping one unit active
    expected = 1.0 / (3 * sweep.width) ** 0.5
    for column in (sweep.hessian_norm, sweep.hessian_norm_random, sweep.hessian_norm_gradient):
        assert torch.allclose(column, expected, rtol=1e-9)
    assert torch.allclose(sweep.preoutput_hessian_norm, sweep.hessian_norm, rtol=1e-9)  # the output is linear
    assert sweep.max_relative_residual <= 1e-3


def test_sweep_ball_points_and_preoutput_match_direct_calls():
    spec = LZBNet(3, 2, 8, "tanh", "softplus")
    sweep = sweep_widths(spec, X, (8,), 2, seed=5, radius=2.0, preoutput_hessian=True)
    weights = draw_networks(spec, derive_seed(5, 8), 2)
    ball = shifted(weights, random_direction(weights, derive_seed(5, 8)), 2.0)
    assert torch.allclose(sweep.hessian_norm_random, hessian_spectral_norm(spec, ball, X, rtol=1e-9).norm, rtol=2e-3)
    g = gradient(spec, weights, X)
    assert torch.allclose(sweep.gradient_norm, sum(v.pow(2).sum(dim=(1, 2)) for v in g.values()).sqrt())
    linear = dataclasses.replace(spec, output_activation="identity")
    direct = hessian_spectral_norm(linear, weights, X, rtol=1e-9).norm
    assert torch.allclose(sweep.preoutput_hessian_norm, direct, rtol=2e-3)
    assert torch.allclose(sweep.preoutput_gradient_norm, gradient_norm(linear, weights, X))
    no_ball = sweep_widths(spec, X, (8,), 2, seed=5)
    assert no_ball.hessian_norm_random.isnan().all() and no_ball.preoutput_hessian_norm.isnan().all()
    assert torch.equal(no_ball.hessian_norm, sweep.hessian_norm)


def test_bad_input():
    spec = LZBNet(3, 1, 4)
    weights = draw_networks(spec, 0, 1)
    with pytest.raises(ValueError, match="one input"):
        hessian_spectral_norm(spec, weights, [[1.0, 0, 0], [0, 1.0, 0]])
    with pytest.raises(ValueError, match="NaN"):
        hessian_spectral_norm(spec, weights, [[float("nan"), 0, 0]])
    with pytest.raises(ValueError, match="max_iter"):
        hessian_spectral_norm(spec, weights, X, max_iter=0)
    with pytest.raises(ValueError, match="rtol"):
        hessian_spectral_norm(spec, weights, X, rtol=0.0)
    with pytest.raises(ValueError, match="radius"):
        sweep_widths(spec, X, (4, 8), 1, 0, radius=float("nan"))
    with pytest.raises(ValueError, match="widths"):
        sweep_widths(spec, X, (4, 0), 1, 0)
    with pytest.raises(ValueError, match="LZBNet"):
        sweep_widths(HuangFFNet(3, 2, 4, train_all=True), X, (4, 8), 1, 0)
    with pytest.raises(ValueError, match="n_networks"):
        draw_networks(spec, 0, 0)
    assert dataclasses.is_dataclass(sweep_widths(spec, X, (4, 8), 1, 0))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda w: {k: v for k, v in w.items() if k != "v"}, "missing \\['v'\\]"),
        (lambda w: w | {"W9": w["v"]}, "unknown \\['W9'\\]"),
        (lambda w: w | {"W1": w["W1"][0]}, "W1.*shape \\(B, 4, 3\\)"),
        (lambda w: w | {"W1": w["W1"].transpose(1, 2)}, "W1.*shape"),
        (lambda w: w | {"v": torch.cat([w["v"], w["v"]])}, "batch size"),
        (lambda w: w | {"v": w["v"] * float("nan")}, "v.*NaN"),
        (lambda w: w | {"v": w["v"].numpy()}, "v.*real torch tensor"),
        (lambda w: list(w.values()), "dict"),
    ],
)
def test_bad_weights_are_clear_errors(mutate, message):
    spec = LZBNet(3, 1, 4)
    weights = draw_networks(spec, 0, 1)
    for call in (
        lambda w: hessian_spectral_norm(spec, w, X),
        lambda w: gradient_norm(spec, w, X),
        lambda w: ntk_gram(spec, w, X),
        lambda w: hessian_vector_product(spec, w, X, weights),
    ):
        with pytest.raises(ValueError, match=message):
            call(mutate(weights))


def test_untrained_matrices_and_shared_matrices_are_refused():
    with pytest.raises(ValueError, match="every matrix trained"):
        hessian_spectral_norm(HuangFFNet(3, 2, 4), draw_networks(HuangFFNet(3, 2, 4), 0, 1), X)

    @dataclasses.dataclass(frozen=True)
    class Shared(LZBNet):  # applies W1 twice: the range-subspace reduction does not hold
        kind = "lzb-shared-test"

        def weight_shapes(self):
            return {"W1": (3, 3), "v": (1, 3)}

        def apply(self, weights, x, tape=None):
            h = torch.tanh(dense("W1", weights, x, 0.5, tape))
            h = torch.tanh(dense("W1", weights, h, 0.5, tape))
            return dense("v", weights, h, 0.5, tape)[..., 0]

    ArchitectureSpec.registry.pop(Shared.kind)  # a test double: keep the registry to the real specs
    spec = Shared(3, 1, 3)
    with pytest.raises(ValueError, match="applied once"):
        hessian_spectral_norm(spec, draw_networks(spec, 0, 1), X)


def composed_shared_networks():
    """Networks whose matrices are shared over positions or tokens (the full-space Lanczos path)."""
    from models import presets
    from models.layers import Activation, Conv, Dense, GlobalAvgPool, Serial
    from models.network import Network

    conv = Network((5, 2), Serial(Conv(3, 3, name="C1"), Activation("tanh"), Conv(3, 3, name="C2"),
                                  Activation("softplus"), GlobalAvgPool(), Dense(1, name="v")))  # fmt: skip
    return [
        (conv, [[0.3 * (i - 2) + 0.1 * c for c in range(2)] for i in range(5)]),
        (presets.attention_net(3, 2, 4, 1, "sqrt", "tanh"), [[0.5, -1.0], [1.2, 0.3], [-0.4, 0.9]]),
        (presets.attention_net(2, 3, 4, 2, "linear", "tanh"), [[0.5, -1.0, 0.2], [1.2, 0.3, -0.7]]),
    ]


@pytest.mark.parametrize("case", range(3))
def test_full_space_spectral_norm_of_shared_matrices_matches_dense_hessian(case):
    """Convolutions and attention share a matrix over positions: the range reduction does not hold, and the
    full-space Lanczos norm equals the dense Hessian's largest |eigenvalue| (float64)."""
    from estimators.hessian import range_reduction_holds

    spec, rows = composed_shared_networks()[case]
    x = [value for row in rows for value in row]  # one input, flattened (input_dim = prod(input_shape))
    assert not range_reduction_holds(spec)
    weights = draw_networks(spec, 5, 2)
    result = hessian_spectral_norm(spec, weights, [x], seed=2, rtol=1e-10, max_iter=400)
    shapes = spec.weight_shapes()
    for b in range(2):
        theta = torch.cat([weights[n][b].reshape(-1) for n in shapes])

        def f(t, b=b):
            parts, offset = {}, 0
            for name, (o, i) in shapes.items():
                parts[name] = t[offset : offset + o * i].view(1, o, i)
                offset += o * i
            return spec.apply(parts, torch.tensor([[x]], dtype=torch.float64))[0, 0]

        eigenvalues = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, theta))
        dominant = float(eigenvalues.abs().max())
        assert abs(float(result.norm[b]) - dominant) <= 1e-8 * max(1.0, dominant)


def test_range_reduction_holds_only_for_matrices_used_once():
    from estimators.hessian import range_reduction_holds
    from models import presets

    assert range_reduction_holds(LZBNet(3, 2, 5, "tanh", "identity"))
    assert range_reduction_holds(presets.softmax_output(3, (6,), "tanh", 3))
    assert not range_reduction_holds(presets.attention_net(2, 2, 4, 1, "sqrt", "tanh"))


def test_hessian_norms_are_per_spec_and_reproducible():
    from estimators.hessian import hessian_norms
    from models import presets

    specs = (presets.softmax_output(3, (6,), "tanh", 3), presets.softmax_output(3, (12,), "tanh", 3))
    norms = hessian_norms(specs, X, 3, seed=4)
    assert norms.shape == (2, 3) and norms.dtype == torch.float64 and bool((norms > 0).all())
    assert torch.equal(norms, hessian_norms(specs, X, 3, seed=4))
    single = hessian_spectral_norm(specs[1], draw_networks(specs[1], derive_seed(4, 1), 3), X, seed=0, rtol=1e-10)
    assert torch.allclose(norms[1], single.norm, rtol=1e-3)
    with pytest.raises(ValueError, match="n_networks"):
        hessian_norms(specs, X, 0, seed=4)
