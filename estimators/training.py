"""Kernel constancy along paths in weight space (Liu, Zhu & Belkin, NeurIPS 2020, Prop. 2.1).

A model is a function f(theta, X) -> (k,) of a flat float64 weight vector theta (P,). Its tangent kernel
K(theta) = J J^T, J = df/dtheta (k, P), is computed by ``torch.func.jacrev`` (generic, any model).
Prop. 2.1: K is constant on a set iff f is linear in theta there. Along the straight path
theta(t) = theta0 + t R u (u a unit vector, t in [0, 1]) we report max_t ||K(t) - K(0)||_F / ||K(0)||_F.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import jacrev

from estimators.sampling import derive_seed
from models.base import ArchitectureSpec

FlatModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def random_features_model(input_dim: int, width: int, activation: str, seed: int) -> tuple[FlatModel, int]:
    """f(w, X) = sigma(X A^T / sqrt(d)) w / sqrt(m) with fixed A ~ N(0, 1) (m, d): linear in w (P = m)."""
    from models.activations import ACTIVATIONS

    if activation not in ACTIVATIONS:
        raise ValueError(f"random_features_model.activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    generator = torch.Generator().manual_seed(derive_seed(seed, "features"))
    features = torch.randn(width, input_dim, generator=generator, dtype=torch.float64)
    sigma = ACTIVATIONS[activation]

    def f(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return sigma(x @ features.T / input_dim**0.5) @ w / width**0.5

    return f, width


def spec_model(spec: ArchitectureSpec) -> tuple[FlatModel, int]:
    """A spec (every matrix trained) as f(theta, X) of its flat weights."""
    shapes = spec.weight_shapes()

    def f(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        parts, offset = {}, 0
        for name, (fan_out, fan_in) in shapes.items():
            parts[name] = theta[offset : offset + fan_out * fan_in].view(1, fan_out, fan_in)
            offset += fan_out * fan_in
        return spec.apply(parts, x[None])[0]

    return f, spec.n_parameters()


def tangent_kernel(model: FlatModel, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """K(theta) = J J^T (k, k) with J = df(theta, X)/dtheta by reverse mode."""
    jacobian = jacrev(model)(theta, x)
    return jacobian @ jacobian.T


def kernel_change_along_path(
    model: FlatModel, n_parameters: int, x: torch.Tensor, radius: float, seed: int, n_points: int = 8
) -> float:
    """max over t in (0, 1] (n_points steps) of ||K(theta0 + t R u) - K(theta0)||_F / ||K(theta0)||_F, with
    theta0 ~ N(0, I) and u uniform on the unit sphere, both from ``seed``."""
    if not (radius > 0 and radius < float("inf")):
        raise ValueError(f"kernel_change_along_path.radius must be finite and > 0, got {radius!r}")
    generator = torch.Generator().manual_seed(derive_seed(seed, "path"))
    theta0 = torch.randn(n_parameters, generator=generator, dtype=torch.float64)
    direction = torch.randn(n_parameters, generator=generator, dtype=torch.float64)
    direction = direction / direction.norm()
    start = tangent_kernel(model, theta0, x)
    changes = [
        float((tangent_kernel(model, theta0 + t * radius * direction, x) - start).norm() / start.norm())
        for t in torch.linspace(0, 1, n_points + 1, dtype=torch.float64)[1:]
    ]
    return max(changes)


def training_set(name: str, n_points: int, input_dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(X (n, d) unit rows, y (n,) in {0, 1}): ``synthetic`` (Gaussian directions, y = 1[x_1 > 0]) or
    ``digits`` (scikit-learn 8x8 digits, first n images, pixels as 64-vectors, y = 1[digit is even];
    input_dim must then be 64)."""
    if name == "synthetic":
        generator = torch.Generator().manual_seed(derive_seed(seed, "synthetic"))
        x = torch.randn(n_points, input_dim, generator=generator, dtype=torch.float64)
        y = (x[:, 0] > 0).to(torch.float64)
    elif name == "digits":
        from sklearn.datasets import load_digits

        if input_dim != 64:
            raise ValueError(f"training_set digits needs input_dim=64, got {input_dim}")
        data = load_digits()
        x = torch.tensor(data.data[:n_points], dtype=torch.float64)
        y = torch.tensor(data.target[:n_points] % 2 == 0, dtype=torch.float64)
    else:
        raise ValueError(f"training_set.name must be 'synthetic' or 'digits', got {name!r}")
    return x / x.norm(dim=1, keepdim=True), y


def train_square_loss(
    spec: ArchitectureSpec, weights: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Full-batch gradient descent on L(w) = (1/2n) sum_i (f(x_i; w) - y_i)^2 for B networks at once, step
    size eta_b = n / lambda_max(K_0,b) (half the stability limit 2n / lambda_max of the linearised model).
    Returns the relative kernel change ||K_T - K_0||_F / ||K_0||_F, L_0 and L_T, each (B,)."""
    from estimators.hessian import ntk_gram

    if steps < 1:
        raise ValueError(f"train_square_loss.steps must be >= 1, got {steps!r}")
    n = x.shape[0]
    current = {k: v.detach().clone() for k, v in weights.items()}
    kernel0 = ntk_gram(spec, current, x)
    eta = n / torch.linalg.eigvalsh(kernel0)[:, -1]
    batch_x = x.expand(kernel0.shape[0], -1, -1)
    losses = []
    for _ in range(steps + 1):
        params = {k: v.requires_grad_(True) for k, v in current.items()}
        loss = 0.5 * (spec.apply(params, batch_x) - y).pow(2).mean(dim=1)
        losses.append(loss.detach())
        if len(losses) == steps + 1:
            break
        grads = torch.autograd.grad(loss.sum(), list(params.values()))
        current = {k: (v - eta[:, None, None] * g).detach() for (k, v), g in zip(params.items(), grads, strict=True)}
    kernel_t = ntk_gram(spec, {k: v.detach() for k, v in current.items()}, x)
    change = (kernel_t - kernel0).flatten(1).norm(dim=1) / kernel0.flatten(1).norm(dim=1)
    return change, losses[0], losses[-1]
