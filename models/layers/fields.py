"""Validation of layer fields: a ``ValueError`` naming the layer and the field (``models.validation``)."""

from __future__ import annotations

from typing import Any

from models.validation import boolean, finite_float, one_of, positive_int

PARAMETERIZATIONS = ("ntk", "standard")


def check_fields(layer: Any, **checks: tuple[Any, ...]) -> None:
    """``check_fields(self, width=(positive_int,), ...)``: validate and normalise each field in place."""
    owner = type(layer).__name__
    for name, (check, *args) in checks.items():
        object.__setattr__(layer, name, check(owner, name, getattr(layer, name), *args))


def check_linear_fields(layer: Any, **extra: tuple[Any, ...]) -> None:
    """The fields every linear layer (``Dense``, ``Conv``) shares, plus ``extra``; a bias needs bias_std > 0."""
    check_fields(
        layer,
        **extra,
        bias=(boolean,),
        parameterization=(one_of, PARAMETERIZATIONS),
        weight_std=(positive,),
        bias_std=(non_negative,),
        trained=(boolean,),
        name=(optional_name,),
    )
    if layer.bias and layer.bias_std == 0:
        raise ValueError(f"{type(layer).__name__}.bias_std must be > 0 when bias=True (use bias=False for none)")


def optional_name(owner: str, field: str, value: object) -> str | None:
    """None, or a non-empty weight name without whitespace."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ValueError(f"{owner}.{field} must be None or a non-empty name without spaces, got {value!r}")
    return value


def non_negative(owner: str, field: str, value: object) -> float:
    return finite_float(owner, field, value, minimum=0.0)


def positive(owner: str, field: str, value: object) -> float:
    return finite_float(owner, field, value, positive=True)


def real(owner: str, field: str, value: object) -> float:
    return finite_float(owner, field, value)


__all__ = [
    "PARAMETERIZATIONS",
    "boolean",
    "check_fields",
    "check_linear_fields",
    "finite_float",
    "non_negative",
    "one_of",
    "optional_name",
    "positive",
    "positive_int",
    "real",
]
