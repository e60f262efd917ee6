"""The architecture-spec protocol, the batched dense layer and its NTK tape.

Every network here is a composition of dense layers ``y = scale * W h`` with W of shape
(fan_out, fan_in) and i.i.d. N(0, 1) entries (NTK parameterisation: ``scale`` carries the
1/sqrt(fan_in) factor). Weights are batched: ``W`` has shape (B, fan_out, fan_in), hidden
activations have shape (B, k, width) for B independent networks evaluated on k inputs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch

from models.validation import check_json_fields

Weights = Mapping[str, torch.Tensor]


@runtime_checkable
class LazyWeights(Protocol):
    """A stand-in for the dict of dense weights that applies each matrix without forming it.

    ``apply_dense(name, h)`` returns ``h W^T`` of shape (B, k, fan_out) for h of shape (B, k, fan_in),
    W being the (never materialised) matrix ``name`` of the B networks. ``dense`` uses it, duck-typed,
    whenever the weights object has an ``apply_dense`` method.
    """

    @property
    def n_networks(self) -> int:
        """The batch size B."""
        ...

    def apply_dense(self, name: str, h: torch.Tensor) -> torch.Tensor:
        """``h W^T`` for matrix ``name``: (B, k, fan_in) -> (B, k, fan_out)."""
        ...


@dataclass
class DenseRecord:
    """What the NTK factorisation needs of one dense layer: its input h, scale, and a probe on y.

    ``scale`` is dy/d(parameter) per unit of h: the forward scale s under the NTK parameterisation
    (parameter Z, y = s Z h), 1 under the standard one (parameter s Z). A layer applied at P positions
    with one shared matrix (conv patches, tokens) records h (B, k, P, fan_in) and a probe (B, k, P, fan_out).
    """

    inputs: torch.Tensor  # h, shape (B, k, fan_in) or (B, k, P, fan_in)
    scale: float
    probe: torch.Tensor  # zeros (B, k, fan_out) or (B, k, P, fan_out); d f / d probe = d f / d y

    elementwise: bool = False  # a gain y = w * h channel by channel (``elementwise``), not y = s W h

    @property
    def shared(self) -> bool:
        """Whether the matrix is applied at several positions (weight sharing)."""
        return self.inputs.ndim == 4


@dataclass
class Tape:
    """Records every dense layer of a forward pass (insertion order = forward order)."""

    records: dict[str, DenseRecord] = field(default_factory=dict)


def dense(
    name: str,
    weights: Weights | LazyWeights,
    h: torch.Tensor,
    scale: float,
    tape: Tape | None = None,
    gradient_scale: float | None = None,
) -> torch.Tensor:
    """Batched dense layer ``y = scale * W h``: (B, k, fan_in) -> (B, k, fan_out), or, with one matrix
    shared over positions, (B, k, *spatial, fan_in) -> (B, k, *spatial, fan_out).

    ``weights`` is a mapping name -> (B, fan_out, fan_in) tensor, or a ``LazyWeights`` (anything
    with an ``apply_dense`` method), which then computes ``h W^T`` itself (unshared layers only).
    With a tape, a zero probe that requires grad is added to y, so one backward pass of f
    yields d f / d y for every layer at once (no per-parameter Jacobian). ``gradient_scale`` is the
    NTK's dy/d(parameter) when it is not ``scale`` (the standard parameterisation: 1).
    """
    spatial = h.shape[2:-1]
    flat = h.reshape(h.shape[0], -1, h.shape[-1]) if spatial else h
    apply_dense = getattr(weights, "apply_dense", None)
    if apply_dense is not None:
        if spatial:
            raise ValueError(f"matrix {name!r} is shared over positions: the low-rank sampler cannot apply it")
        y = scale * apply_dense(name, flat)
    else:
        y = scale * torch.matmul(flat, weights[name].transpose(-1, -2))  # type: ignore[index]
    if spatial:
        y = y.reshape(*h.shape[:-1], y.shape[-1])
    if tape is not None:
        probe = torch.zeros_like(y, requires_grad=True)
        recorded = scale if gradient_scale is None else gradient_scale
        if spatial:
            positions = h.reshape(h.shape[0], h.shape[1], -1, h.shape[-1])
            tape.records[name] = DenseRecord(inputs=positions, scale=recorded, probe=probe)
            y = y + probe
        else:
            tape.records[name] = DenseRecord(inputs=h, scale=recorded, probe=probe)
            y = y + probe
    return y


def elementwise(name: str, weights: Weights | LazyWeights, h: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
    """Batched channel-wise gain ``y = w * h``: w the (C, 1) matrix ``name`` of each network, h (B, k, *spatial, C).

    With a tape, the record keeps h as (B, k, P, C) and its NTK term is <sum_p delta_p * h_p, sum_q delta'_q *
    h'_q> (``estimators.ntk``); the low-rank samplers cannot apply it (they never form w)."""
    if getattr(weights, "apply_dense", None) is not None:
        raise ValueError(f"gain {name!r} is applied channel by channel: the low-rank sampler cannot apply it")
    gain = weights[name][..., 0]  # type: ignore[index]  # (B, C)
    y = h * gain.reshape(gain.shape[0], *([1] * (h.ndim - 2)), gain.shape[-1])
    if tape is not None:
        probe = torch.zeros_like(y, requires_grad=True)
        positions = h.reshape(h.shape[0], h.shape[1], -1, h.shape[-1])
        tape.records[name] = DenseRecord(inputs=positions, scale=1.0, probe=probe, elementwise=True)
        y = y + probe
    return y


class ArchitectureSpec:
    """Base class of the frozen, hashable, JSON-serialisable architecture specs.

    Subclasses are frozen dataclasses that validate their fields in ``__post_init__`` and define
    ``weight_shapes``, ``trained`` and ``apply``. ``kind`` names the class in JSON.
    """

    kind: ClassVar[str]
    input_dim: int
    registry: ClassVar[dict[str, type[ArchitectureSpec]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ArchitectureSpec.registry[cls.kind] = cls

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        """Shape (fan_out, fan_in) of every weight matrix, in forward order."""
        raise NotImplementedError

    def trained(self) -> frozenset[str]:
        """Names of the weight matrices whose gradients enter the NTK."""
        raise NotImplementedError

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        """Batched forward pass: weights (B, out, in) each, x (B, k, input_dim) -> f (B, k)."""
        raise NotImplementedError

    # --- declared capabilities (read by the samplers; a composed ``Network`` overrides them) ----------
    def couples_inputs(self) -> bool:
        """Whether one input's output depends on the other inputs (BatchNorm): False here."""
        return False

    def each_weight_once(self) -> bool:
        """Whether every matrix is N(0, 1) and applied once per input to a vector, inputs not coupled: the
        condition under which the low-rank samplers are exact. True of every hand-built family."""
        return True

    @property
    def positions(self) -> dict[str, int]:
        """Per matrix, the positions it is applied at per input (1: no weight sharing)."""
        return dict.fromkeys(self.weight_shapes(), 1)

    def parameter_inits(self) -> dict[str, str]:
        """Per matrix, how it starts: "normal" (N(0, 1) entries) for every matrix here."""
        return dict.fromkeys(self.weight_shapes(), "normal")

    def describe(self) -> str:
        """One line naming the spec, for error messages."""
        return repr(self)

    # --- shared behaviour -------------------------------------------------------------
    def n_parameters(self, trained_only: bool = True) -> int:
        """Number of scalar weights (trained ones by default)."""
        names = self.trained() if trained_only else self.weight_shapes().keys()
        shapes = self.weight_shapes()
        return sum(shapes[n][0] * shapes[n][1] for n in names)

    def check_inputs(self, x: object) -> torch.Tensor:
        """Validate inputs of shape (k, input_dim): finite reals. Returns a float64 tensor."""
        owner = type(self).__name__
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu()
        try:
            if (isinstance(x, torch.Tensor) and x.is_complex()) or np.iscomplexobj(np.asarray(x)):
                raise ValueError("got complex numbers")
            tensor = torch.as_tensor(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{owner} inputs must be an array of real numbers: {err}") from None
        if tensor.ndim == 1:
            tensor = tensor.unsqueeze(0)
        if tensor.ndim != 2 or tensor.shape[0] < 1 or tensor.shape[1] != self.input_dim:
            raise ValueError(
                f"{owner} inputs must have shape (k, input_dim={self.input_dim}) with k >= 1, "
                f"got {tuple(tensor.shape)}"
            )
        if not torch.isfinite(tensor).all():
            raise ValueError(f"{owner} inputs contain NaN or inf")
        return tensor

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict with a ``kind`` tag; ``spec_from_json`` inverts it."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        return {"kind": self.kind, **{k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}}

    def module(self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64) -> SpecModule:
        """A single network (``torch.nn.Module``) with N(0, 1) weights drawn from ``generator``."""
        return SpecModule(self, generator=generator, dtype=dtype)


def spec_from_json(data: Mapping[str, Any] | str) -> ArchitectureSpec:
    """Rebuild a spec from ``to_json`` output (dict or JSON string); validates again."""
    payload = dict(json.loads(data) if isinstance(data, str) else data)
    kind = payload.pop("kind", None)
    if not isinstance(kind, str) or kind not in ArchitectureSpec.registry:
        raise ValueError(f"unknown architecture kind {kind!r}; known: {sorted(ArchitectureSpec.registry)}")
    cls = ArchitectureSpec.registry[kind]
    check_json_fields(cls, payload, "")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in payload.items()})


class SpecModule(torch.nn.Module):
    """One network of a spec as an ``nn.Module``: ``forward(x)`` maps (k, input_dim) -> (k,)."""

    def __init__(self, spec: ArchitectureSpec, generator: torch.Generator | None, dtype: torch.dtype) -> None:
        super().__init__()
        self.spec = spec
        self.weights = torch.nn.ParameterDict(
            {
                name: torch.nn.Parameter(
                    torch.randn(shape, generator=generator, dtype=dtype), requires_grad=name in spec.trained()
                )
                for name, shape in spec.weight_shapes().items()
            }
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batched = {name: w.unsqueeze(0) for name, w in self.weights.items()}
        return self.spec.apply(batched, x.unsqueeze(0))[0]


def inverse_sqrt(fan_in: int) -> float:
    """The NTK-parameterisation scale 1/sqrt(fan_in)."""
    return 1.0 / math.sqrt(fan_in)
