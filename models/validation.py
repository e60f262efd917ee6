"""Field validation shared by every architecture spec: clear ``ValueError`` naming the field."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np


def normalise(spec: object, field: str, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Validate ``spec.field`` with ``check(owner, field, value, ...)`` and store its normalised value
    (e.g. numpy integers become ``int``, a constant width becomes a tuple) on the frozen spec."""
    value = check(type(spec).__name__, field, getattr(spec, field), *args, **kwargs)
    object.__setattr__(spec, field, value)
    return value


def boolean(owner: str, field: str, value: object) -> bool:
    """Return ``value`` if it is a bool (numpy bools included), else raise naming the field."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{owner}.{field} must be a bool, got {value!r}")
    return bool(value)


def positive_int(owner: str, field: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as ``int`` if it is an integer >= ``minimum``, else raise naming the field."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{owner}.{field} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{owner}.{field} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def width_tuple(owner: str, field: str, value: object, length: int) -> tuple[int, ...]:
    """Normalise an int (constant width) or a sequence of ``length`` ints to a tuple of widths."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != length:
            raise ValueError(f"{owner}.{field} must have {length} entries, got {len(value)}: {tuple(value)!r}")
        return tuple(positive_int(owner, f"{field}[{i}]", w) for i, w in enumerate(value))
    return (positive_int(owner, field, value),) * length


def finite_float(
    owner: str, field: str, value: object, *, positive: bool = False, minimum: float | None = None
) -> float:
    """Return ``value`` as ``float`` if finite (and > 0 / >= minimum when asked), else raise naming the field."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{owner}.{field} must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{owner}.{field} must be finite, got {number!r}")
    if positive and number <= 0:
        raise ValueError(f"{owner}.{field} must be > 0, got {number!r}")
    if minimum is not None and number < minimum:
        raise ValueError(f"{owner}.{field} must be >= {minimum}, got {number!r}")
    return number


def positive_float_tuple(owner: str, field: str, value: object, length: int) -> tuple[float, ...]:
    """Normalise a positive float or a sequence of ``length`` positive floats to a tuple."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != length:
            raise ValueError(f"{owner}.{field} must have {length} entries, got {len(value)}: {tuple(value)!r}")
        return tuple(finite_float(owner, f"{field}[{i}]", a, positive=True) for i, a in enumerate(value))
    return (finite_float(owner, field, value, positive=True),) * length


def one_of(owner: str, field: str, value: object, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed`` strings, else raise listing the choices."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{owner}.{field} must be one of {sorted(allowed)}, got {value!r}")
    return value


def check_json_fields(cls: type, payload: Mapping[str, Any], where: str) -> None:
    """A dataclass's JSON payload has no unknown fields and every required one (``where`` prefixes errors)."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = {f.name for f in fields}
    if unknown := sorted(set(payload) - names):
        raise ValueError(f"{where}{cls.__name__} JSON has unknown fields {unknown}; fields are {sorted(names)}")
    required = {f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    if missing := sorted(required - set(payload)):
        raise ValueError(f"{where}{cls.__name__} JSON lacks required fields {missing}")
