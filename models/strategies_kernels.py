"""Hypothesis strategies for compositions whose infinite-width kernels have closed forms
(``models.layers.kernels``; the claim ``theorems/infinite_width_agreement.py``).

``kernel_networks`` draws a ``Network``: a first Dense (a Gaussian trunk of width n), then 1..max_depth blocks,
each mapping a Gaussian trunk of width n to one (so every nonlinearity sees a Gaussian process):

- ``dense``:    phi, Dense(n);
- ``residual``: Residual(Serial(Dense(n), phi, Dense(n)), alpha);
- ``sum``:      Sum(Serial(phi, Dense(n)), Serial(Dense(m), phi', Dense(n)));
- ``concat``:   Concat(phi, Serial(Dense(m), phi')), Dense(n)  (the Dense averages the two blocks by width);

and finally phi, Dense(1). phi is ReLU, erf or the identity, each with a gain; every Dense draws its bias
(or none), weight_std and bias_std; one parameterisation ("ntk" or "standard") per network (its other
reading: ``other_parameterization``).
"""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from models.layers import PARAMETERIZATIONS, Activation, Concat, Dense, Layer, Repeat, Residual, Serial, Sum
from models.network import Network
from models.strategies import NetworkCase, two_input_cases

BLOCKS = ("dense", "residual", "sum", "concat")


@st.composite
def activations(draw: st.DrawFn) -> Activation:
    """ReLU (gain 0.8..1.6), erf (gain 0.5..2) or the identity (gain 0.5..1.5)."""
    fn, low, high = draw(st.sampled_from([("relu", 0.8, 1.6), ("erf", 0.5, 2.0), ("identity", 0.5, 1.5)]))
    return Activation(fn, draw(st.floats(low, high)))


@st.composite
def dense_layers(draw: st.DrawFn, width: int, parameterization: str) -> Dense:
    """Dense(width) with a drawn bias (or none), weight_std in [0.5, 1.5] and bias_std in [0.1, 1]."""
    return Dense(
        width,
        bias=draw(st.booleans()),
        parameterization=parameterization,
        weight_std=draw(st.floats(0.5, 1.5)),
        bias_std=draw(st.floats(0.1, 1.0)),
    )


@st.composite
def kernel_networks(
    draw: st.DrawFn, min_width: int = 256, max_width: int = 512, max_depth: int = 3, max_input_dim: int = 4
) -> Network:
    """A composition of dense layers, ReLU/erf/identity, residuals, sums and concatenations (module docstring)."""
    parameterization = draw(st.sampled_from(PARAMETERIZATIONS))
    widths = st.integers(min_width, max_width)
    width = draw(widths)

    def dense(n: int) -> Dense:
        return draw(dense_layers(n, parameterization))

    layers: list[Layer] = [dense(width)]
    for kind in draw(st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=max_depth)):
        phi = draw(activations())
        if kind == "dense":
            layers += [phi, dense(width)]
        elif kind == "residual":
            layers.append(Residual(Serial(dense(width), phi, dense(width)), alpha=draw(st.floats(0.2, 1.0))))
        elif kind == "sum":
            side = draw(widths)
            layers.append(Sum(Serial(phi, dense(width)), Serial(dense(side), draw(activations()), dense(width))))
        else:
            side = draw(widths)
            layers += [Concat(phi, Serial(dense(side), draw(activations()))), dense(width)]
    layers += [draw(activations()), dense(1)]
    return Network((draw(st.integers(1, max_input_dim)),), Serial(*layers))


def other_parameterization(network: Network) -> Network:
    """The same network with every Dense layer in the other parameterisation (ntk <-> standard): the same
    forward law, another NTK."""
    flip = {"ntk": "standard", "standard": "ntk"}

    def swap(layer: Layer) -> Layer:
        if isinstance(layer, Dense):
            return dataclasses.replace(layer, parameterization=flip[layer.parameterization])
        if isinstance(layer, Serial | Sum | Concat):
            return type(layer)(*(swap(child) for child in layer.layers))
        if isinstance(layer, Residual):
            return Residual(swap(layer.branch), layer.alpha)
        if isinstance(layer, Repeat):
            return Repeat(swap(layer.block), layer.times)
        return layer

    return Network(network.input_shape, swap(network.layers))


def kernel_cases(**sizes: int) -> st.SearchStrategy[NetworkCase]:
    """A ``kernel_networks(**sizes)`` network with two unit inputs, not parallel (``two_input_cases``)."""
    return two_input_cases(kernel_networks(**sizes))
