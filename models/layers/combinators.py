"""Combinators: networks from layers (stax's ``serial``, ``parallel`` + ``FanInSum`` / ``FanInConcat``).

- ``Serial(a, b, ...)``: b(a(x));
- ``Residual(branch, alpha)``: x + alpha * branch(x)   (Littwin et al. Eq. 9 with alpha = sqrt(alpha_l);
  Huang et al. with alpha = L^-gamma);
- ``Sum(b1, b2, ...)``: b1(x) + b2(x) + ...  (parallel branches, summed);
- ``Concat(b1, b2, ...)``: [b1(x), b2(x), ...] along the channels, kept as blocks (``Concat(Identity(),
  layer)`` is a DenseNet step x -> [x, layer(x)]);
- ``Repeat(block, times)``: block applied ``times`` times, fresh weights each time (explicit names inside
  get the suffix ``@<r>``, r = 1..times).

Infinite-width kernels (``kernel``, ``models.layers.kernels``): Serial and Repeat compose the steps; a
residual and a sum add their streams' kernels, which is exact when the cross terms vanish, i.e. when every
branch but one ends in a Dense layer with weights of its own (zero mean, independent of the other branches);
a concatenation keeps its branches' blocks (a following Dense averages them by width).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from models.layers.activation import Activation
from models.layers.core import Layer, Namer, Param, Run, Shape, Stream, merged, owner
from models.layers.fields import check_fields, finite_float, positive_int
from models.layers.kernels import KernelBlock, KernelState, mix, square, unsupported, weighted_parts, weighted_sum


def _layers(owner_name: str, field: str, value: object, minimum: int = 1) -> tuple[Layer, ...]:
    if not isinstance(value, tuple) or len(value) < minimum:
        raise ValueError(f"{owner_name}.{field} needs at least {minimum} layer(s), got {value!r}")
    for i, layer in enumerate(value):
        if not isinstance(layer, Layer):
            raise ValueError(f"{owner_name}.{field}[{i}] must be a layer (models.layers), got {layer!r}")
    return value


class _Many(Layer):
    """A combinator over a tuple of layers, written ``Kind(a, b, ...)``."""

    layers: tuple[Layer, ...]
    minimum: int = 1

    def __init__(self, *layers: Layer, **fields: Any) -> None:
        if "layers" in fields:
            if layers:
                raise ValueError(f"{type(self).__name__} takes its layers positionally or as layers=, not both")
            given = fields.pop("layers")
            if not isinstance(given, tuple | list):
                raise ValueError(f"{type(self).__name__}.layers must be a tuple of layers, got {given!r}")
            layers = tuple(given)
        if fields:
            raise ValueError(f"{type(self).__name__} got unknown fields {sorted(fields)}")
        object.__setattr__(self, "layers", _layers(type(self).__name__, "layers", tuple(layers), self.minimum))

    def children(self) -> tuple[Layer, ...]:
        return self.layers

    def branch_where(self, where: str, i: int) -> str:
        return f"{where}.{type(self).__name__}[{i}]" if where else f"{type(self).__name__}[{i}]"


@dataclass(frozen=True, init=False)
class Serial(_Many):
    layers: tuple[Layer, ...]
    kind = "serial"

    def stages(self, shape: Shape, where: str) -> Iterator[tuple[Layer, Shape, str]]:
        for i, layer in enumerate(self.layers):
            here = self.branch_where(where, i)
            yield layer, shape, here
            shape = layer.out_shape(shape, here)

    def out_shape(self, shape: Shape, where: str) -> Shape:
        for layer, stage, here in self.stages(shape, where):
            shape = layer.out_shape(stage, here)
        return shape

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        return [p for layer, stage, _ in self.stages(shape, "") for p in layer.params(stage, namer)]

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        for layer, stage, _ in self.stages(shape, ""):
            h = layer.apply(run, h, stage, namer)
        return h

    def kernel(self, state: KernelState, where: str) -> KernelState:
        """The layers' kernel steps in order."""
        for i, layer in enumerate(self.layers):
            state = layer.kernel(state, self.branch_where(where, i))
        return state

    def kernel_ends_in_dense(self) -> bool:
        for layer in reversed(self.layers):
            if not (isinstance(layer, Activation) and layer.fn == "identity"):  # a gain keeps it a Dense output
                return layer.kernel_ends_in_dense()
        return False


@dataclass(frozen=True, init=False)
class Sum(_Many):
    layers: tuple[Layer, ...]
    kind = "sum"

    def out_shape(self, shape: Shape, where: str) -> Shape:
        outs = [layer.out_shape(shape, self.branch_where(where, i)) for i, layer in enumerate(self.layers)]
        merged_outs = {(o.spatial, o.channels) for o in outs}
        if len(merged_outs) > 1:
            raise ValueError(
                f"{owner(self, where)}: branches give different shapes {[o.describe() for o in outs]}; a sum needs one"
            )
        return outs[0].merged()

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        return [p for layer in self.layers for p in layer.params(shape, namer)]

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        outs = [merged(layer.apply(run, h, shape, namer)) for layer in self.layers]
        total = outs[0]
        for out in outs[1:]:
            total = total + out
        return total

    def kernel(self, state: KernelState, where: str) -> KernelState:
        """Sigma' = sum_i Sigma_i, Theta' = sum_i Theta_i (cross terms vanish: every branch but one must end
        in a Dense layer)."""
        others = [i for i, layer in enumerate(self.layers) if not layer.kernel_ends_in_dense()]
        if len(others) > 1:
            raise unsupported(
                type(self).__name__, where, f"branches {others} do not end in a Dense layer, so their cross terms "
                "need not vanish (at most one branch may end otherwise)",
            )
        states = [layer.kernel(state, self.branch_where(where, i)) for i, layer in enumerate(self.layers)]
        base = others[0] if others else 0
        dense = [states[i].blocks[0] for i in range(len(states)) if i != base]
        blocks = tuple(_added(block, [(1.0, d) for d in dense], state) for block in states[base].blocks)
        return state.evolve(blocks, states[0].shape.merged())

    def kernel_ends_in_dense(self) -> bool:
        return all(layer.kernel_ends_in_dense() for layer in self.layers)


@dataclass(frozen=True, init=False)
class Concat(_Many):
    layers: tuple[Layer, ...]
    kind = "concat"

    def out_shape(self, shape: Shape, where: str) -> Shape:
        outs = [layer.out_shape(shape, self.branch_where(where, i)) for i, layer in enumerate(self.layers)]
        if len({o.spatial for o in outs}) > 1:
            raise ValueError(
                f"{owner(self, where)}: branches give different spatial shapes {[o.describe() for o in outs]}"
            )
        return Shape(outs[0].spatial, tuple(b for o in outs for b in o.blocks), split=True)

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        return [p for layer in self.layers for p in layer.params(shape, namer)]

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        blocks: list[torch.Tensor] = []
        for layer in self.layers:
            out = layer.apply(run, h, shape, namer)
            blocks.extend(out if isinstance(out, tuple) else (out,))
        return tuple(blocks)

    def kernel(self, state: KernelState, where: str) -> KernelState:
        """The branches' blocks side by side (each keeps its kernels; block widths add up to the channels)."""
        blocks: list[KernelBlock] = []
        widths: list[int] = []
        for i, layer in enumerate(self.layers):
            out = layer.kernel(state, self.branch_where(where, i))
            blocks += [dataclasses.replace(block, matrix=block.matrix + len(widths)) for block in out.blocks]
            widths += out.shape.blocks
        return state.evolve(tuple(blocks), Shape(state.shape.spatial, tuple(widths), split=True))


@dataclass(frozen=True)
class Residual(Layer):
    """x + alpha * branch(x); the branch must return the input's shape."""

    branch: Layer
    alpha: float = 1.0
    kind = "residual"

    def __post_init__(self) -> None:
        if not isinstance(self.branch, Layer):
            raise ValueError(f"Residual.branch must be a layer (models.layers), got {self.branch!r}")
        check_fields(self, alpha=(finite_float,))

    def children(self) -> tuple[Layer, ...]:
        return (self.branch,)

    def out_shape(self, shape: Shape, where: str) -> Shape:
        here = f"{where}.Residual.branch" if where else "Residual.branch"
        out = self.branch.out_shape(shape, here)
        if (out.spatial, out.channels) != (shape.spatial, shape.channels):
            raise ValueError(
                f"{owner(self, where)}: the branch maps shape {shape.describe()} to {out.describe()}; "
                "x + alpha * branch(x) needs the same shape"
            )
        return shape.merged()

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        return self.branch.params(shape, namer)

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        branch = merged(self.branch.apply(run, h, shape, namer))
        return merged(h) + self.alpha * branch

    def kernel(self, state: KernelState, where: str) -> KernelState:
        """Sigma' = Sigma + alpha^2 Sigma_branch, Theta' = Theta + alpha^2 Theta_branch: the cross terms
        E[x_i branch_i(x')] and <dx_i/dtheta, dbranch_i/dtheta> vanish at infinite width because the branch
        ends in a Dense layer with weights of its own (zero mean, independent of x); otherwise a ValueError."""
        if not self.branch.kernel_ends_in_dense():
            raise unsupported(
                type(self).__name__, where, "the branch must end in a Dense layer (then the cross terms between x "
                "and branch(x) vanish)",
            )
        here = f"{where}.Residual.branch" if where else "Residual.branch"
        (branch,) = self.branch.kernel(state, here).blocks
        weight = square(self.alpha)
        blocks = tuple(_added(block, [(weight, branch)], state) for block in state.blocks)
        return state.evolve(blocks, state.shape.merged())


@dataclass(frozen=True)
class Repeat(Layer):
    """``block`` applied ``times`` times in series, each repetition with its own weights."""

    block: Layer
    times: int
    kind = "repeat"

    def __post_init__(self) -> None:
        if not isinstance(self.block, Layer):
            raise ValueError(f"Repeat.block must be a layer (models.layers), got {self.block!r}")
        check_fields(self, times=(positive_int,))

    def children(self) -> tuple[Layer, ...]:
        return (self.block,)

    def _each(self, namer: Namer) -> Iterator[int]:
        for r in range(1, self.times + 1):
            namer.suffixes.append(f"@{r}")
            try:
                yield r
            finally:
                namer.suffixes.pop()

    def out_shape(self, shape: Shape, where: str) -> Shape:
        for r in range(1, self.times + 1):
            shape = self.block.out_shape(shape, f"{where}.Repeat[{r}]" if where else f"Repeat[{r}]")
        return shape

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        out = []
        for _ in self._each(namer):
            out += self.block.params(shape, namer)
            shape = self.block.out_shape(shape, "")
        return out

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        for _ in self._each(namer):
            h = self.block.apply(run, h, shape, namer)
            shape = self.block.out_shape(shape, "")
        return h

    def kernel(self, state: KernelState, where: str) -> KernelState:
        """The block's kernel step ``times`` times (fresh weights each time: the same map every time)."""
        for r in self._each(state.namer):
            state = self.block.kernel(state, f"{where}.Repeat[{r}]" if where else f"Repeat[{r}]")
        return state

    def kernel_ends_in_dense(self) -> bool:
        return self.block.kernel_ends_in_dense()


def _added(block: KernelBlock, others: list[tuple[float, KernelBlock]], state: KernelState) -> KernelBlock:
    """``block`` plus weight * other for each (weight, other) of uncorrelated Dense outputs: kernels add."""
    pairs = [(1.0, block), *others]
    weights, blocks = [w for w, _ in pairs], [b for _, b in pairs]
    variance, nngp, minus, plus = mix(blocks, weights)
    ntk = weighted_sum((w, b.ntk) for w, b in pairs)
    parts = weighted_parts((w, b.parts) for w, b in pairs) if state.part_key else {}
    gaussian = all(b.gaussian for b in blocks)
    return KernelBlock(block.width, 0, variance, nngp, minus, plus, ntk, parts, gaussian)


__all__ = ["Concat", "Repeat", "Residual", "Serial", "Sum"]
