"""Reading a ledger's claim records: numbers, intervals, support regions and example parameters.

Ledgers store non-finite numbers as the strings ``"inf"``/``"-inf"``/``"nan"`` (``engine.serialize``);
everything here turns them back into floats so the report, the diff and the power table read one way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from engine.serialize import canonical_json

# Numeric example parameters preferred as a plot's x-axis, most telling first.
PREFERRED_PARAMETERS = ("width", "n", "depth", "blocks", "gamma", "alpha", "branch_depth", "input_dim")


def number(value: Any) -> float:
    """A ledger number as a float (``"inf"``, ``"-inf"``, ``"nan"`` and ``None`` included)."""
    if value is None:
        return math.nan
    return float(value)


def interval(ci: Sequence[Any] | None) -> tuple[float, float]:
    """A ledger interval ``[low, high]`` as floats (``(nan, nan)`` when absent)."""
    if not ci:
        return (math.nan, math.nan)
    return (number(ci[0]), number(ci[1]))


def wanted_verdict(record: Mapping[str, Any]) -> str:
    """What a claim must come out as: ``refuted`` for a false twin, ``supported`` otherwise."""
    return "refuted" if record.get("twin_of") else "supported"


def example_key(example: Any) -> str:
    """A stable key for a drawn example (its canonical JSON), to match examples across ledgers."""
    return canonical_json(example)


def support_region(rule_spec: Mapping[str, Any] | None, label: str, prediction: float) -> tuple[float, float] | None:
    """The region a comparison must be shown inside for support, from the ledger's ``rule_spec``.

    ``RatioOfMeans(margin)``: prediction (1 +- margin); ``InRegion(low, high, tolerance)``:
    [prediction + low, prediction + high]; ``SameLaw(margin, variance_margin)``: +-margin SD for
    ``": mean"`` comparisons, 1 +- variance_margin for ``": variance"``, none for ``": KS"``.
    None for rules this function does not know (the report then shows the prediction only).
    """
    if not rule_spec or not math.isfinite(prediction):
        return None
    name = rule_spec.get("name")
    if name == "RatioOfMeans":
        ends = sorted((prediction * (1 - number(rule_spec["margin"])), prediction * (1 + number(rule_spec["margin"]))))
        return (ends[0], ends[1])
    if name == "InRegion":
        return (prediction + number(rule_spec["low"]), prediction + number(rule_spec["high"]))
    if name == "SameLaw":
        if label.endswith(": mean"):
            return (-number(rule_spec["margin"]), number(rule_spec["margin"]))
        if label.endswith(": variance"):
            return (1 - number(rule_spec["variance_margin"]), 1 + number(rule_spec["variance_margin"]))
    return None


def _numeric_leaves(value: Any, prefix: str = "") -> dict[str, float]:
    """Flatten nested dicts to ``{"spec.depth": 3.0, ...}``, keeping numeric scalars (not bools or lists)."""
    if isinstance(value, Mapping):
        leaves: dict[str, float] = {}
        for key, item in value.items():
            leaves.update(_numeric_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return {prefix or "value": float(value)}
    return {}


def varying_parameter(examples: Sequence[Any]) -> tuple[str, list[float]] | None:
    """A numeric example parameter that takes at least two values across ``examples`` (for a plot's
    x-axis): a preferred name (width, depth, ...) if one varies, else the first varying one; None if none."""
    if len(examples) < 2:
        return None
    leaves = [_numeric_leaves(e) for e in examples]
    shared = [k for k in leaves[0] if all(k in leaf for leaf in leaves) and "seed" not in k.rsplit(".", 1)[-1]]
    varying = [k for k in shared if len({leaf[k] for leaf in leaves}) > 1]
    if not varying:
        return None
    ranked = sorted(
        varying,
        key=lambda k: (
            PREFERRED_PARAMETERS.index(k.rsplit(".", 1)[-1])
            if k.rsplit(".", 1)[-1] in PREFERRED_PARAMETERS
            else len(PREFERRED_PARAMETERS),
            varying.index(k),
        ),
    )
    return ranked[0], [leaf[ranked[0]] for leaf in leaves]


def describe_example(example: Any, limit: int = 160) -> str:
    """A one-line description: a spec's kind and fields (inputs left out), else compact JSON."""
    if isinstance(example, Mapping) and isinstance(example.get("spec"), Mapping):
        spec = dict(example["spec"])
        kind = spec.pop("kind", "spec")
        text = f"{kind}(" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(spec.items())) + ")"
        extra = {k: v for k, v in example.items() if k not in {"spec", "inputs"}}
        if extra:
            text += " " + json.dumps(extra, sort_keys=True)
        if "inputs" in example:
            text += f", {len(example['inputs'])} input(s)"
    else:
        text = json.dumps(example, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
