"""The universal fallback: Monte Carlo of the empirical NTK of any ``torch.nn.Module`` factory.

``sample_module_ntk(factory, x, n_draws, seed)`` builds network b as ``factory(generator_b)`` (the
generator seeded by ``derive_seed(seed, "module", b)``), evaluates it on the k inputs at once and takes
its per-parameter Jacobians with ``torch.func.jacrev`` (``estimators.reference``):

    K(x_i, x_j; w_b) = sum_theta <d f(x_i) / d theta, d f(x_j) / d theta>   over parameters with requires_grad.

It materialises every Jacobian (k x n_parameters), one network at a time: slow but exact for any module,
BatchNorm in train mode included (the whole batch is differentiated at once). Composed ``Network``s take
the factorised path of ``estimators.ntk.sample_ntk`` instead; this is the reference for everything else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from estimators.ntk import NTKDraws
from estimators.reference import module_per_parameter_gram
from estimators.sampling import derive_seed
from models.validation import positive_int

ModuleFactory = Callable[[torch.Generator], torch.nn.Module]


def sample_module_ntk(
    factory: ModuleFactory, inputs: object, n_draws: int, seed: int, *, dtype: torch.dtype = torch.float64
) -> NTKDraws:
    """f (B, k) and per-parameter Grams (B, M, k, k) of ``n_draws`` modules ``factory(generator)`` on
    ``inputs`` (k, ...) — whatever shape the module takes; its output must have k entries."""
    owner = "sample_module_ntk"
    if not callable(factory):
        raise ValueError(f"{owner}.factory must be a callable generator -> torch.nn.Module, got {factory!r}")
    positive_int(owner, "n_draws", n_draws)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"{owner}.seed must be an int, got {seed!r}")
    try:
        x = torch.as_tensor(np.asarray(inputs.detach().cpu() if isinstance(inputs, torch.Tensor) else inputs,
                                       dtype=np.float64)).to(dtype)  # fmt: skip
    except (TypeError, ValueError) as err:
        raise ValueError(f"{owner}.inputs must be an array of real numbers: {err}") from None
    if x.ndim < 1 or x.shape[0] < 1 or not torch.isfinite(x).all():
        raise ValueError(f"{owner}.inputs must be a non-empty finite array of k inputs, got shape {tuple(x.shape)}")
    outputs, grams, names = [], [], None
    for b in range(n_draws):
        generator = torch.Generator().manual_seed(derive_seed(seed, "module", b))
        module = factory(generator)
        if not isinstance(module, torch.nn.Module):
            raise ValueError(f"{owner}.factory must return a torch.nn.Module, got {type(module).__name__}")
        module = module.to(dtype)
        with torch.no_grad():
            out = module(x)
        if out.numel() != x.shape[0]:
            raise ValueError(f"{owner}: the module maps {x.shape[0]} inputs to output shape {tuple(out.shape)}; "
                             f"it must give one scalar per input")  # fmt: skip
        if not any(p.requires_grad for p in module.parameters()):
            raise ValueError(f"{owner}: the module has no parameter with requires_grad: its NTK is 0")
        per_parameter = module_per_parameter_gram(module, x)
        if names is None:
            names = tuple(per_parameter)
        outputs.append(out.reshape(-1).detach().to(torch.float64))
        grams.append(torch.stack([per_parameter[n].reshape(x.shape[0], x.shape[0]) for n in names]).to(torch.float64))
    assert names is not None
    return NTKDraws(names, (True,) * len(names), torch.stack(outputs), torch.stack(grams))
