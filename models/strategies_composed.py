"""Hypothesis strategies for composed architectures (``models.network.Network`` of ``models.layers``).

``composed_networks(...)`` draws an input shape and a stack of blocks, each block one layer kind that
applies to the current shape, then a readout to one scalar; ``composed_cases(...)`` adds k unit-norm
inputs (k >= 2 when the network has BatchNorm, whose statistics are over the inputs). Shrinking goes
towards small, simple networks: the depth is drawn first, kinds are sampled in the order of
``LAYER_KINDS`` (dense first), widths and sizes shrink to their minimum, options to their first value.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from models.layers import (
    PARAMETERIZATIONS,
    SCALINGS,
    Activation,
    BatchNorm,
    Concat,
    Conv,
    Dense,
    Flatten,
    GlobalAvgPool,
    Identity,
    Layer,
    LayerNorm,
    Residual,
    SelfAttention,
    Serial,
    Shape,
)
from models.layers.conv import PADDINGS
from models.network import Network
from models.strategies import NetworkCase, unit_vectors

LAYER_KINDS = ("dense", "conv", "layer_norm", "batch_norm", "attention", "residual", "concat")
ACTIVATIONS = ("relu", "identity", "erf", "tanh", "gelu", "softplus", "sigmoid")  # simplest first
WEIGHT_STDS = (1.0, 0.5, 1.5)


def _applicable(kind: str, shape: Shape) -> bool:
    """Whether a block of ``kind`` applies to activations of ``shape``."""
    if kind == "conv":
        return len(shape.spatial) in (1, 2)
    if kind == "attention":
        return len(shape.spatial) == 1
    if kind == "layer_norm":
        return shape.channels >= 2
    return True


@st.composite
def _block(
    draw: st.DrawFn,
    kind: str,
    shape: Shape,
    widths: st.SearchStrategy[int],
    bias: st.SearchStrategy[bool],
    parameterization: st.SearchStrategy[str],
    activations: Sequence[str],
) -> list[Layer]:
    """One block of ``kind`` on ``shape``: its layers (a linear layer is followed by an activation)."""

    def activation() -> Activation:
        return Activation(draw(st.sampled_from(tuple(activations))))

    def dense(width: int) -> Dense:
        std = draw(st.sampled_from(WEIGHT_STDS))
        return Dense(width, draw(bias), draw(parameterization), weight_std=std)

    def conv(width: int) -> Conv:
        kernel = tuple(draw(st.integers(1, extent)) for extent in shape.spatial)
        padding, std = draw(st.sampled_from(PADDINGS)), draw(st.sampled_from(WEIGHT_STDS))
        return Conv(width, kernel, padding, draw(bias), draw(parameterization), weight_std=std)

    def linear(width: int) -> Layer:  # inside a residual or concat branch: a conv where one applies
        return conv(width) if shape.spatial and draw(st.booleans()) else dense(width)

    if kind == "dense":  # on a spatial input, one matrix shared over the positions
        return [dense(draw(widths)), activation()]
    if kind == "conv":
        return [conv(draw(widths)), activation()]
    if kind == "layer_norm":  # with or without torch's learned gain and shift (at their init 1 and 0)
        return [LayerNorm(affine=draw(st.booleans()))]
    if kind == "batch_norm":
        return [BatchNorm(affine=draw(st.booleans()))]
    if kind == "attention":
        heads = draw(st.sampled_from([h for h in (1, 2) if shape.channels % h == 0]))
        return [SelfAttention(heads, draw(st.sampled_from(SCALINGS)))]
    if kind == "residual":
        alpha = draw(st.sampled_from((1.0, 0.5)))
        return [Residual(Serial(linear(shape.channels), activation()), alpha=alpha)]
    assert kind == "concat", kind
    return [Concat(Identity(), Serial(linear(draw(widths)), activation()))]


@st.composite
def composed_networks(
    draw: st.DrawFn,
    max_depth: int = 3,
    min_width: int = 2,
    max_width: int = 6,
    kinds: Sequence[str] = LAYER_KINDS,
    bias: bool | None = None,
    parameterization: str | None = None,
    activations: Sequence[str] = ACTIVATIONS,
    max_positions: int = 4,
    max_input_channels: int = 3,
    readout_parameterization: str | None = None,
) -> Network:
    """A ``Network`` of 1..``max_depth`` blocks of ``kinds`` (``LAYER_KINDS``), hidden widths in
    [``min_width``, ``max_width``], then a readout (pooling or flatten on spatial inputs) and ``Dense(1)``.

    ``bias`` / ``parameterization``: fixed, or None to draw per layer (no bias / NTK first). The input is a
    vector, or, when ``kinds`` has conv or attention, tokens (P, C) or an image (H, W, C) with at most
    ``max_positions`` per side: attention blocks need tokens; conv blocks apply to either.
    ``readout_parameterization`` fixes the readout's parameterisation (else as ``parameterization``)."""
    unknown = sorted(set(kinds) - set(LAYER_KINDS))
    if not kinds or unknown:
        raise ValueError(f"composed_networks.kinds must be a non-empty subset of {list(LAYER_KINDS)}, got {kinds!r}")
    if not 1 <= min_width <= max_width:
        raise ValueError(f"composed_networks needs 1 <= min_width <= max_width, got {min_width}, {max_width}")
    if max_depth < 1 or max_positions < 2 or max_input_channels < 1:
        raise ValueError(
            "composed_networks needs max_depth >= 1, max_positions >= 2, max_input_channels >= 1, got "
            f"{max_depth}, {max_positions}, {max_input_channels}"
        )
    depth = draw(st.integers(1, max_depth))
    ranks = [0] if set(kinds) - {"conv", "attention"} else []  # some kind applies to vectors
    ranks += [1] if {"conv", "attention"} & set(kinds) else []
    ranks += [2] if "conv" in kinds else []
    rank = draw(st.sampled_from(ranks))
    spatial = tuple(draw(st.integers(2, max_positions)) for _ in range(rank))
    input_shape = (*spatial, draw(st.integers(1, max_input_channels)))
    widths = st.integers(min_width, max_width)
    biases = st.sampled_from((False, True)) if bias is None else st.just(bias)
    parameterizations = st.sampled_from(PARAMETERIZATIONS) if parameterization is None else st.just(parameterization)

    shape = Shape(spatial, (input_shape[-1],))
    layers: list[Layer] = []
    for _ in range(depth):
        kind = draw(st.sampled_from([k for k in LAYER_KINDS if k in kinds and _applicable(k, shape)] or ["dense"]))
        block = draw(_block(kind, shape, widths, biases, parameterizations, activations))
        for layer in block:
            shape = layer.out_shape(shape, "")
        layers += block
    if shape.spatial:
        layers.append(draw(st.sampled_from((GlobalAvgPool(), Flatten()))))
    readout = draw(parameterizations) if readout_parameterization is None else readout_parameterization
    layers.append(Dense(1, bias=draw(biases), parameterization=readout))
    return Network(input_shape, Serial(*layers))


@st.composite
def composed_cases(
    draw: st.DrawFn,
    networks: st.SearchStrategy[Network] | None = None,
    min_inputs: int = 1,
    max_inputs: int = 3,
) -> NetworkCase:
    """A composed network (``networks``, default ``composed_networks()``) with k unit-norm inputs of
    its flattened input dimension, ``min_inputs`` <= k <= ``max_inputs`` (k >= 2 with BatchNorm, and then
    not all equal: BatchNorm maps k equal inputs to 0, a degenerate network whose f and J vanish)."""
    spec = draw(composed_networks() if networks is None else networks)
    lowest = max(min_inputs, 2) if spec.couples_inputs() else min_inputs
    k = draw(st.integers(lowest, max(lowest, max_inputs)))
    inputs = [draw(unit_vectors(spec.input_dim)) for _ in range(k)]
    if spec.couples_inputs() and all(x == inputs[0] for x in inputs):
        inputs[-1] = tuple(-c for c in inputs[-1])  # equal inputs make BatchNorm's output 0, so f = 0
    return NetworkCase(spec=spec, inputs=tuple(inputs))


__all__ = ["ACTIVATIONS", "LAYER_KINDS", "composed_cases", "composed_networks"]
