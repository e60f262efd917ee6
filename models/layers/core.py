"""What every layer of a composed network shares: shapes, weight naming, the forward context.

A composed network (``models.network.Network``) is a tree of frozen layer values, in the spirit of
neural-tangents' ``stax``. Each layer knows

- ``out_shape(shape, where)``: the shape it produces from ``shape``, validating its fields against it
  (a ``ValueError`` naming ``where``, the layer and the field);
- ``params(shape, namer)``: the weight matrices it owns, each a ``Param`` (name, (fan_out, fan_in), trained);
- ``apply(run, h, shape, namer)``: the batched forward pass over B networks and k inputs;
- ``kernel(state, where)`` (``models.layers.kernels``): its infinite-width NNGP/NTK step, where one exists
  (others raise a ``ValueError`` naming the layer and ``where``).

Activations are batched as (B, k, *spatial, channels): channels last, B networks, k inputs. A stream
that is a concatenation (``Concat``) is kept as a tuple of its blocks, so a dense layer reading it owns
one matrix per block (a DenseNet's W^{l,h}, Littwin et al. Eq. 10), and per-block Grams stay visible.
Every weight is a matrix of i.i.d. N(0, 1) entries Z; a layer multiplies it by its forward scale (NTK
parameterisation: weight_std / sqrt(fan_in); standard: the same, but the trained parameter is the scaled
matrix itself, see ``models.layers.dense``).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from models.base import LazyWeights, Tape
from models.validation import check_json_fields

if TYPE_CHECKING:
    from models.layers.kernels import KernelState

Stream = torch.Tensor | tuple[torch.Tensor, ...]
Weights = Mapping[str, torch.Tensor] | LazyWeights


@dataclass(frozen=True)
class Shape:
    """The shape of one input's activations: spatial extent and the channel widths of its blocks.

    ``spatial`` is () for vectors, (P,) for sequences/tokens, (H, W) for images; ``blocks`` holds one
    width per concatenated block (one entry unless a ``Concat`` made it).
    """

    spatial: tuple[int, ...]
    blocks: tuple[int, ...]
    split: bool = False  # made by a Concat: a dense layer reading it owns one matrix per block

    @property
    def channels(self) -> int:
        return sum(self.blocks)

    @property
    def positions(self) -> int:
        """Number of spatial positions (1 for a vector)."""
        return math.prod(self.spatial)

    def merged(self) -> Shape:
        return Shape(self.spatial, (self.channels,))

    def describe(self) -> str:
        return str((*self.spatial, self.channels))


@dataclass(frozen=True)
class Param:
    """One weight matrix: ``name``, ``shape`` = (fan_out, fan_in), whether it is ``trained`` (enters the
    NTK), ``parameter_scale`` c: the trained parameter is c * Z (1 under the NTK parameterisation), and its
    ``init``: "normal" (Z i.i.d. N(0, 1), every matrix but these), "ones" (a normalisation gain) or "zeros"
    (a normalisation shift) — deterministic at initialisation, as in torch."""

    name: str
    shape: tuple[int, int]
    trained: bool
    parameter_scale: float = 1.0
    init: str = "normal"


INITS = ("normal", "ones", "zeros")


class Namer:
    """Names weights in traversal order: a layer's explicit ``name`` or ``<kind><count>``, plus the
    repetition suffixes of enclosing ``Repeat`` layers. ``params`` and ``apply`` walk the tree in the
    same order, so both see the same names."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.suffixes: list[str] = []

    def name(self, explicit: str | None, kind: str) -> str:
        if explicit is None:
            base = f"{kind}{self.counts[kind]}"
            self.counts[kind] += 1
            return base
        return explicit + "".join(self.suffixes)


@dataclass
class Run:
    """The forward context of B networks: their weights (dense or lazy) and the NTK tape (or None)."""

    weights: Weights
    tape: Tape | None = None


def merged(h: Stream) -> torch.Tensor:
    """A concatenated stream as one tensor (blocks joined along channels)."""
    return torch.cat(h, dim=-1) if isinstance(h, tuple) else h


class Layer:
    """Base class of the frozen layer values (subclasses are frozen dataclasses with a ``kind``)."""

    kind: ClassVar[str]
    registry: ClassVar[dict[str, type[Layer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            Layer.registry[cls.kind] = cls

    # --- to implement ------------------------------------------------------------------
    def out_shape(self, shape: Shape, where: str) -> Shape:
        raise NotImplementedError

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        return []

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        raise NotImplementedError

    # --- infinite-width kernel step (models.layers.kernels) ---------------------------------
    def kernel(self, state: KernelState, where: str) -> KernelState:
        """The layer's NNGP/NTK step at infinite width; layers without a closed form raise a ValueError
        naming the layer and its position ``where``."""
        from models.layers.kernels import unsupported

        raise unsupported(type(self).__name__, where)

    def kernel_ends_in_dense(self) -> bool:
        """Whether the output is a zero-mean Dense output with weights of its own (up to a linear gain): then
        its infinite-width cross terms with any other stream vanish (a residual's or a sum's branch)."""
        return False

    # --- declared capabilities (stax's @requires, read by the samplers) ----------------------
    def couples_inputs(self) -> bool:
        """Whether one input's output depends on another input's activations (BatchNorm)."""
        return any(child.couples_inputs() for child in self.children())

    def children(self) -> tuple[Layer, ...]:
        return ()

    def describe(self) -> str:
        """One line, e.g. ``Serial(Dense(width=64, bias=True), Activation(fn='relu'))``: the fields that differ
        from their defaults, child layers described in place."""
        parts = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, Layer):
                parts.append(value.describe())
            elif isinstance(value, tuple) and value and isinstance(value[0], Layer):
                parts.extend(layer.describe() for layer in value)
            elif f.default is dataclasses.MISSING or value != f.default:
                parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # --- JSON --------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"layer": self.kind}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            out[f.name] = _to_json(getattr(self, f.name))
        return out


def _to_json(value: object) -> object:
    if isinstance(value, Layer):
        return value.to_json()
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    return value


def layer_from_json(data: object, where: str = "layers") -> Layer:
    """Rebuild a layer tree from ``Layer.to_json`` output; validates every field again."""
    if isinstance(data, Layer):
        return data
    if not isinstance(data, Mapping) or "layer" not in data:
        raise ValueError(f"{where}: a layer must be a JSON object with a 'layer' kind, got {data!r}")
    payload = dict(data)
    kind = payload.pop("layer")
    if not isinstance(kind, str) or kind not in Layer.registry:
        raise ValueError(f"{where}: unknown layer kind {kind!r}; known: {sorted(Layer.registry)}")
    cls = Layer.registry[kind]
    check_json_fields(cls, payload, f"{where}: ")
    values = {}
    for key, value in payload.items():
        if isinstance(value, Mapping) and "layer" in value:
            values[key] = layer_from_json(value, f"{where}.{key}")
        elif isinstance(value, list):
            values[key] = tuple(
                layer_from_json(v, f"{where}.{key}[{i}]") if isinstance(v, Mapping) else _tuple(v)
                for i, v in enumerate(value)
            )
        else:
            values[key] = value
    return cls(**values)


def _tuple(value: object) -> object:
    return tuple(_tuple(v) for v in value) if isinstance(value, list) else value


def owner(layer: Layer, where: str) -> str:
    """``where`` plus the layer's class: the prefix of every validation message."""
    return f"{where} ({type(layer).__name__})" if where else type(layer).__name__
