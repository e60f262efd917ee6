"""The Lanczos Hessian norm, gradient norm and NTK of estimators/hessian.py against dense references."""

import dataclasses

import pytest
import torch

from estimators.hessian import (
    draw_networks,
    gradient_norm,
    hessian_spectral_norm,
    hessian_vector_product,
    lanczos_extreme,
    ntk_gram,
    sweep_widths,
)
from models.lzb import LZBNet

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
        dense = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, theta)).abs().max()
        assert abs(result.norm[b] - dense) <= 1e-8 * max(1.0, float(dense))
    assert result.converged.all() and (result.residual <= 1e-10 * result.norm).all()


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


def test_lanczos_on_a_known_spectrum_reports_residual():
    eigenvalues = torch.tensor([[-3.0, 1.0, 2.0, 2.9] + [0.5] * 46], dtype=torch.float64)
    basis = torch.linalg.qr(torch.randn(50, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
    matrix = basis @ torch.diag(eigenvalues[0]) @ basis.T
    ritz, vector, _residual, iterations = lanczos_extreme(lambda v: v @ matrix, torch.ones(1, 50, dtype=torch.float64))
    assert abs(float(ritz) + 3.0) < 1e-10 and iterations <= 50
    assert float((vector @ matrix - ritz * vector).norm()) < 1e-5


def test_ntk_gram_diagonal_is_squared_gradient_norm():
    spec = LZBNet(3, 2, 6, "softplus")
    weights = draw_networks(spec, 5, 4)
    assert torch.allclose(ntk_gram(spec, weights, X)[:, 0, 0], gradient_norm(spec, weights, X) ** 2)


def test_sweep_shapes_and_linear_output_scaling():
    spec = LZBNet(3, 1, 16, "relu")
    sweep = sweep_widths(spec, X, (16, 64), 2, seed=0, radius=1.0)
    assert sweep.width.tolist() == [16, 16, 64, 64]
    # depth-1 ReLU: ||H|| = max_i relu'(y_i) |x| / sqrt(d m) exactly (one active unit suffices)
    expected = 1.0 / (3 * sweep.width) ** 0.5
    assert torch.allclose(sweep.hessian_norm, expected, rtol=1e-9)


def test_bad_input():
    spec = LZBNet(3, 1, 4)
    weights = draw_networks(spec, 0, 1)
    with pytest.raises(ValueError, match="one input"):
        hessian_spectral_norm(spec, weights, [[1.0, 0, 0], [0, 1.0, 0]])
    with pytest.raises(ValueError, match="NaN"):
        hessian_spectral_norm(spec, weights, [[float("nan"), 0, 0]])
    with pytest.raises(ValueError, match="max_iter"):
        hessian_spectral_norm(spec, weights, X, max_iter=0)
    with pytest.raises(ValueError, match="radius"):
        sweep_widths(spec, X, (4, 8), 1, 0, radius=float("nan"))
    with pytest.raises(ValueError, match="n_networks"):
        draw_networks(spec, 0, 0)
    assert dataclasses.is_dataclass(sweep_widths(spec, X, (4, 8), 1, 0))
