"""Reference NTK by torch.func (jacrev + vmap): materialises the per-parameter Jacobian.

Used to cross-check the factorised estimator and as the benchmark's baseline:
K(x_i, x_j) = sum_W <dF(x_i)/dW, dF(x_j)/dW> over the trained matrices.
"""

from __future__ import annotations

import copy

import torch
from torch.func import jacrev, vmap

from models.base import ArchitectureSpec


def jacrev_per_matrix_gram(
    spec: ArchitectureSpec, weights: dict[str, torch.Tensor], x: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per-matrix Gram (k, k) of one network (weights (out, in) each) via jacrev, all matrices."""

    def output(params: dict[str, torch.Tensor], x_single: torch.Tensor) -> torch.Tensor:
        batched = {name: w.unsqueeze(0) for name, w in params.items()}
        return spec.apply(batched, x_single.reshape(1, 1, -1))[0, 0]

    jacobians = vmap(jacrev(output), in_dims=(None, 0))(weights, x)  # name -> (k, out, in)
    return {name: torch.einsum("iab,jab->ij", j, j) for name, j in jacobians.items()}


def jacrev_ntk(spec: ArchitectureSpec, weights: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Empirical NTK Gram matrix (k, k) of one network over its trained matrices, via jacrev."""
    trained = spec.trained()
    fixed = {n: w for n, w in weights.items() if n not in trained}

    def output(params: dict[str, torch.Tensor], x_single: torch.Tensor) -> torch.Tensor:
        batched = {name: w.unsqueeze(0) for name, w in (params | fixed).items()}
        return spec.apply(batched, x_single.reshape(1, 1, -1))[0, 0]

    params = {n: w for n, w in weights.items() if n in trained}
    jacobians = vmap(jacrev(output), in_dims=(None, 0))(params, x)
    return sum(torch.einsum("iab,jab->ij", j, j) for j in jacobians.values())


def module_ntk(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Empirical NTK (k, k) of any ``torch.nn.Module`` mapping k inputs to k scalar outputs, over its
    parameters with ``requires_grad``: K = sum_theta J_theta J_theta^T with J = d f(x) / d theta by
    ``torch.func.jacrev`` of the whole batch (so layers that couple the inputs, BatchNorm, are exact)."""
    return sum(module_per_parameter_gram(module, x).values())  # type: ignore[return-value]


def module_per_parameter_gram(module: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-parameter Gram matrices (k, k) of ``module`` on inputs x, by jacrev (the universal reference).

    Works on a copy whose BatchNorm layers stop tracking running statistics
    (``torch.func.replace_all_batch_norm_modules_``): train-mode BatchNorm still normalises by the batch's
    own statistics, which is what couples the inputs, but mutates no buffer inside the transform."""
    module = copy.deepcopy(module)
    torch.func.replace_all_batch_norm_modules_(module)
    params = {n: p.detach() for n, p in module.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError(f"{type(module).__name__} has no parameter with requires_grad: its NTK is 0")
    buffers = {n: b for n, b in module.named_buffers()}

    def output(theta: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.func.functional_call(module, (theta, buffers), (x,))

    jacobians = jacrev(output)(params)  # name -> (k, *shape)
    return {n: (j.reshape(j.shape[0], -1) @ j.reshape(j.shape[0], -1).T) for n, j in jacobians.items()}
