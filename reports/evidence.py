"""Reading a ledger's claim records: numbers, intervals, support regions and example parameters.

Ledgers store non-finite numbers as the strings ``"inf"``/``"-inf"``/``"nan"`` (``engine.serialize``);
everything here turns them back into floats so the report, the diff and the power table read one way.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from engine.ledger import read_ledger
from engine.power import POWER_TARGET
from engine.serialize import canonical_json

# Numeric example parameters preferred as a plot's x-axis, most telling first.
PREFERRED_PARAMETERS = ("width", "n", "depth", "blocks", "gamma", "alpha", "branch_depth", "input_dim")


VERDICTS = ("supported", "inconclusive", "refuted")


def _is_number(value: Any) -> bool:
    """A ledger number: int/float (not bool), or one of the strings non-finite numbers are stored as."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or value in ("inf", "-inf", "nan")


def validate_ledger(data: Any, source: str = "ledger") -> dict[str, Any]:
    """``data`` if it is a claims ledger the reports can read, else a ValueError naming the first problem.

    Checked: a ``run`` object and a ``claims`` list; per claim a unique string ``id``, a known ``verdict``,
    ``twin_of`` (null or a string), a numeric ``estimate``, a two-number ``ci`` and a list of ``examples``
    whose ``comparisons`` carry a ``label`` and a numeric ``estimate``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("run"), dict) or not isinstance(data.get("claims"), list):
        raise ValueError(f"{source} is not a claims ledger (needs a 'run' object and a 'claims' list)")
    seen: set[str] = set()
    for index, claim in enumerate(data["claims"]):
        where = f"{source}: claims[{index}]"
        if not isinstance(claim, dict) or not isinstance(claim.get("id"), str) or not claim["id"]:
            raise ValueError(f"{where} has no string 'id'")
        where = f"{source}: claim {claim['id']!r}"
        if claim["id"] in seen:
            raise ValueError(f"{where} appears twice")
        seen.add(claim["id"])
        if claim.get("verdict") not in VERDICTS:
            raise ValueError(f"{where} has verdict {claim.get('verdict')!r}; expected one of {list(VERDICTS)}")
        if claim.get("twin_of") is not None and not isinstance(claim["twin_of"], str):
            raise ValueError(f"{where} has a non-string 'twin_of': {claim['twin_of']!r}")
        if not _is_number(claim.get("estimate")):
            raise ValueError(f"{where} has no numeric 'estimate' (got {claim.get('estimate')!r})")
        ci = claim.get("ci")
        if not (isinstance(ci, list) and len(ci) == 2 and all(_is_number(end) for end in ci)):
            raise ValueError(f"{where} has no two-number 'ci' (got {ci!r})")
        examples = claim.get("examples")
        if not isinstance(examples, list):
            raise ValueError(f"{where} has no 'examples' list")
        for e_index, example in enumerate(examples):
            comparisons = example.get("comparisons") if isinstance(example, dict) else None
            if not isinstance(comparisons, list) or not all(
                isinstance(c, dict) and isinstance(c.get("label"), str) and _is_number(c.get("estimate"))
                for c in comparisons
            ):
                raise ValueError(f"{where}: examples[{e_index}] needs 'comparisons' with a 'label' and an 'estimate'")
    return data


def load_ledger(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a ledger file; a ValueError naming the file and the problem otherwise."""
    try:
        data = read_ledger(path)
    except FileNotFoundError:
        raise ValueError(f"no such ledger file: {path}") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory, not a ledger file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a JSON ledger (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except OSError as error:
        raise ValueError(f"cannot read ledger {path}: {error.strerror or error}") from None
    return validate_ledger(data, str(path))


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


def predicted_power(record: Mapping[str, Any]) -> float | None:
    """A claim record's (or power-table row's) predicted power of its required verdict (``engine.power``);
    None when it has none (a ledger written before predicted power was recorded)."""
    value = record.get("predicted_power")
    if not _is_number(value) or math.isnan(number(value)):
        return None
    return number(value)


def power_flagged(record: Mapping[str, Any], target: float = POWER_TARGET) -> bool:
    """Whether the predicted power is below ``target`` (its Monte Carlo size should grow)."""
    power = predicted_power(record)
    return power is not None and power < target


def is_review(record: Mapping[str, Any]) -> bool:
    """A claim written to answer a reviewer's question (its id contains ``.review.``), or its twin."""
    return ".review." in str(record.get("id", ""))


def example_key(example: Any) -> str:
    """A stable key for a drawn example (its canonical JSON), to match examples across ledgers."""
    return canonical_json(example)


def support_region(rule_spec: Mapping[str, Any] | None, label: str, prediction: float) -> tuple[float, float] | None:
    """The region a comparison must be shown inside for support, from the ledger's ``rule_spec``.

    ``RatioOfMeans(margin)``: prediction (1 +- margin); ``InRegion(low, high, tolerance)``:
    [prediction + low - tolerance, prediction + high + tolerance] (support shows the quantity inside the
    region widened by ``tolerance``, ``engine.intervals``); ``SameLaw(margin, variance_margin)``: +-margin
    SD for ``": mean"`` comparisons, 1 +- variance_margin for ``": variance"``, none for ``": KS"``/``": AD"``.
    None for rules this function does not know (the report then shows the prediction only).
    """
    if not rule_spec or not math.isfinite(prediction):
        return None
    name = rule_spec.get("name")
    if name == "RatioOfMeans":
        ends = sorted((prediction * (1 - number(rule_spec["margin"])), prediction * (1 + number(rule_spec["margin"]))))
        return (ends[0], ends[1])
    if name == "InRegion":
        tolerance = number(rule_spec.get("tolerance", 0.0))
        return (prediction + number(rule_spec["low"]) - tolerance, prediction + number(rule_spec["high"]) + tolerance)
    if name == "SameLaw":
        if label.endswith(": mean"):
            return (-number(rule_spec["margin"]), number(rule_spec["margin"]))
        if label.endswith(": variance"):
            return (1 - number(rule_spec["variance_margin"]), 1 + number(rule_spec["variance_margin"]))
    return None


def region_text(region: tuple[float, float] | None) -> str:
    """``"[0.05, 0.95]"``, ``">= 0"``, ``"<= 1e-12"`` for a support region; '' for none or a point."""
    if region is None or region[0] == region[1]:
        return ""
    low, high = region
    if math.isfinite(low) and math.isfinite(high):
        return f"[{low:.4g}, {high:.4g}]"
    return f">= {low:.4g}" if math.isfinite(low) else f"<= {high:.4g}"


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
    """A numeric example parameter with a different value in every example (for a plot's x-axis, so no
    two examples sit on top of each other): a preferred name (width, depth, ...) if one qualifies, else
    the first that does; None if none (the plot then uses the example index)."""
    if len(examples) < 2:
        return None
    leaves = [_numeric_leaves(e) for e in examples]
    shared = [k for k in leaves[0] if all(k in leaf for leaf in leaves) and "seed" not in k.rsplit(".", 1)[-1]]
    varying = [k for k in shared if len({leaf[k] for leaf in leaves}) == len(leaves)]
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


def sweep(example: Any, variable: str) -> list[float] | None:
    """The values of ``variable`` an example sweeps over, e.g. ``widths: [64, 128, 256]`` for "width"
    (a top-level list named ``variable + "s"`` of at least two positive numbers); None if there is none."""
    if not isinstance(example, Mapping):
        return None
    values = example.get(variable + "s")
    if (
        isinstance(values, list)
        and len(values) >= 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in values)
    ):
        return [float(v) for v in values]
    return None


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
