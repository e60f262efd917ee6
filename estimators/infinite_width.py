"""Infinite-width NNGP and NTK of a composed network, from the layers' kernel steps (``models.layers.kernels``).

Public API (float64 numpy, every pair of the k inputs at once):

- ``infinite_width_kernels(spec, inputs, parts=False)`` -> ``InfiniteWidthKernels(nngp, ntk, parts)``;
- ``readout_nngp(spec, draws)``: per draw, E[f f' | hidden layers] from the output layer's Grams (the
  agreement claim's NNGP estimator, ``theorems/infinite_width_agreement.py``).

For a ``Network`` (or any preset spec, through ``spec.network``) built of Dense layers (bias or not, NTK or
standard parameterisation, trained or not), ReLU / erf / identity activations with any gain, ``Serial``,
``Repeat``, ``Concat``, and ``Residual`` / ``Sum`` whose branches end in a Dense layer, as every width goes to
infinity the output f is a Gaussian process and the NTK is deterministic (Jacot et al. 2018, Thm 1; Lee et
al. 2018), with the recursions, layer by layer (Sigma_dot = g^2 E[phi'(u) phi'(u')], u ~ N(0, Sigma)):

    input:          Sigma_0 = x.x' / d,  Theta_0 = 0;
    Dense:          Sigma' = w^2 Sigma + b^2,  Theta' = w^2 Theta + [trained] (w^2 Sigma + b^2)   (NTK param.),
                    [trained] (fan_in Sigma + 1) in the standard parameterisation (its leading order at the
                    actual widths; ``models.layers.dense``); over a ``Concat`` Sigma, Theta are the blocks'
                    averages weighted by width;
    activation:     Sigma' = g^2 E[phi(u) phi(u')],  Theta' = Sigma_dot Theta;  ReLU by the arc-cosine kernels
                    (Cho & Saul 2009), erf by Williams (1997), identity Sigma' = g^2 Sigma;
    x + alpha b(x): Sigma' = Sigma + alpha^2 Sigma_b, Theta' = Theta + alpha^2 Theta_b (cross terms vanish);
    sum:            Sigma' = sum_i Sigma_i, Theta' = sum_i Theta_i.

``nngp`` = Sigma of the output = lim E[f(x) f(x')], ``ntk`` = its Theta. The ReLU steps and every weighted sum
of kernels carry 1 -+ rho to full relative precision (``models.layers.kernels``), so deep nets stay accurate
(a HuangFFNet of depth 10^4 matches the direct recursion of ``tests/estimators/test_analytic.py`` to 2.2e-16
relative, and 40-digit arithmetic to 1e-13). Any other layer (Conv, pooling, LayerNorm, BatchNorm,
attention, softmax, tanh, gelu, ...), a dense layer over positions, a nonlinearity on a non-Gaussian stream
(the raw input, another nonlinearity's output) or a residual whose branch does not end in a Dense layer is a
ValueError naming the layer and its position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from estimators.memory import check_fits
from estimators.ntk import NTKDraws
from models.base import ArchitectureSpec
from models.layers import Dense, Namer, Serial
from models.layers.kernels import input_state
from models.network import Network


@dataclass(frozen=True)
class InfiniteWidthKernels:
    """The infinite-width kernels of one network on k inputs (float64).

    ``nngp``: Sigma(x, x') = lim E[f(x) f(x')], (k, k). ``ntk``: Theta(x, x') over the trained matrices,
    (k, k). ``parts``: with ``parts=True``, the NTK term of every matrix, trained or not (what it adds when
    trained), {name: (k, k)}: the ntk is the sum of the trained ones; with a function name -> group, the
    sums over groups; else empty."""

    nngp: np.ndarray
    ntk: np.ndarray
    parts: dict[str, np.ndarray] = field(default_factory=dict)


def network_of(spec: ArchitectureSpec) -> Network:
    """The spec's composed ``Network`` (the spec itself, or a preset's ``.network``)."""
    if isinstance(spec, Network):
        return spec
    network = getattr(spec, "network", None)
    if not isinstance(network, Network):
        raise ValueError(f"infinite-width kernels need a Network or a preset spec with .network, got {spec!r}")
    return network


def infinite_width_kernels(
    spec: ArchitectureSpec,
    inputs: object,
    parts: bool | Callable[[str], str] = False,
    *,
    max_bytes: int | None = None,
) -> InfiniteWidthKernels:
    """NNGP and NTK of ``spec`` at infinite width (module docstring) on ``inputs``.

    Args:
        spec: a ``Network`` or a preset spec (``VanillaNet``, ``LittwinResNet``, ``DenseNet``, ``HuangFFNet``,
            ``HuangResNet``, ``LZBNet`` with relu/erf/identity activations).
        inputs: (k, input_dim) finite reals (``spec.check_inputs``), squared norms finite in float64.
        parts: True for the NTK term of every matrix, a function matrix name -> group name for sums over
            groups (O(groups) arrays per layer rather than O(matrices)), False for none.
    Returns:
        ``InfiniteWidthKernels`` with (k, k) float64 ``nngp``, ``ntk`` and ``parts``.
    Raises:
        ValueError: bad inputs, or a layer without a closed-form kernel (named with its position).
    """
    network = network_of(spec)
    data = check_kernel_inputs(spec, inputs)
    k, n_parts = data.shape[0], len(network.param_list) if parts else 0
    check_fits(
        "infinite_width_kernels", spec, 8 * k * k * (32 + 4 * n_parts), f"the (k, k) kernels of k = {k:,} inputs",
        "use fewer inputs per call" + (", or parts=False / a grouping function" if parts else ""),
        max_bytes=max_bytes,
    )  # fmt: skip
    key = (lambda name: name) if parts is True else (parts or None)
    state = network.layers.kernel(input_state(data, network.input_layout, key), "")
    (block,) = state.blocks
    return InfiniteWidthKernels(nngp=block.nngp, ntk=block.ntk, parts=dict(block.parts))


def check_kernel_inputs(spec: ArchitectureSpec, inputs: object) -> np.ndarray:
    """Inputs as (k, input_dim) float64 (the spec's checks), each squared norm finite and, for a nonzero
    row, nonzero in float64."""
    data = spec.check_inputs(inputs).numpy()
    owner = type(spec).__name__
    with np.errstate(over="ignore", under="ignore"):
        squared = (data**2).sum(axis=1)
    if not np.isfinite(squared).all():
        raise ValueError(f"{owner} infinite-width kernels: an input's squared norm overflows float64 (rescale)")
    if ((squared == 0) & (data != 0).any(axis=1)).any():
        raise ValueError(f"{owner} infinite-width kernels: an input's squared norm underflows float64 (rescale)")
    return data


def readout_matrices(spec: ArchitectureSpec) -> tuple[str, ...]:
    """The matrices of the network's output layer, a Dense ending the top ``Serial`` (its weight blocks and
    bias): f = sum_M c_M Z_M h_M with h_M fixed by the earlier layers."""
    network = network_of(spec)
    layers = network.layers
    stages = list(layers.stages(network.input_layout, "")) if isinstance(layers, Serial) else [
        (layers, network.input_layout, "")
    ]
    last, shape, _ = stages[-1]
    if not isinstance(last, Dense):
        raise ValueError(f"readout_matrices: the network must end in a Dense layer, got {type(last).__name__}")
    count = len(last.params(shape, Namer()))
    return tuple(p.name for p in network.param_list[-count:])


def readout_nngp(spec: ArchitectureSpec, draws: NTKDraws) -> np.ndarray:
    """Per draw, E[f(x) f(x') | all but the output layer] = sum_M c_M^2 K_M(x, x') over the output layer's
    matrices M (c_M its parameter scale, K_M its per-matrix NTK Gram: s^2 <h, h'> or b^2): (B, k, k). Its mean
    is E[f(x) f(x')] (Rao-Blackwell), with relative SD O(sqrt(L / n)) instead of f f''s sqrt(2)."""
    scales = network_of(spec).parameter_scales()
    names = readout_matrices(spec)
    index = [draws.matrix_names.index(name) for name in names]
    weights = np.array([scales[name] ** 2 for name in names])
    return np.einsum("m,bmij->bij", weights, draws.per_matrix_gram[:, index].numpy())
