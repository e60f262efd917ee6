"""The JSON ledger: one record per claim plus the run's environment, written atomically.

Schema: {"run": {seed, budget, device, alpha_default, strict, versions, ...},
         "claims": [{"id", "twin_of", "verdict", "estimate", "ci", "prediction", "n_samples",
                     "seed", "predicted_power", "examples", ...}]}
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import tempfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from engine.claim import Claim
from engine.evidence import ClaimResult
from engine.power import predicted_power
from engine.serialize import to_jsonable

VERSIONED_PACKAGES = ("torch", "numpy", "scipy", "statsmodels", "hypothesis", "pytest", "pytest-xdist", "matplotlib")


def rule_parameters(rule: Any) -> dict[str, Any]:
    """The rule's class name and (for a dataclass rule) its fields, e.g. ``{"name": "RatioOfMeans",
    "margin": 0.1}``: reports read the support region off these."""
    fields = to_jsonable(rule) if dataclasses.is_dataclass(rule) and not isinstance(rule, type) else {}
    return {"name": type(rule).__name__, **(fields if isinstance(fields, dict) else {})}


def claim_record(claim: Claim, result: ClaimResult, reproduce: str) -> dict[str, Any]:
    """The ledger entry of one decided claim."""
    decisive = result.decisive
    predicted = predicted_power(result)
    return to_jsonable(
        {
            "id": claim.id,
            "twin_of": claim.twin_of,
            "statement": claim.statement,
            "citation": claim.citation,
            "verdict": result.verdict.value,
            "estimate": decisive.estimate,
            "ci": list(decisive.ci),
            "prediction": decisive.prediction,  # what the decisive estimate was tested against
            "decisive": decisive.label,
            "decisive_example": next(i for i, e in enumerate(result.examples) if decisive in e.comparisons),
            "rule": result.rule,
            "rule_spec": rule_parameters(claim.rule),
            "alpha": result.alpha,
            "n_samples": result.n_samples,
            "n_comparisons": len(result.adjusted_p_refute),
            "seed": result.seed,
            "budget": result.budget,
            "seconds": round(result.seconds, 3),
            "predicted_power": predicted.power,  # of the required verdict, from this evidence (engine.power)
            "predicted_power_detail": predicted,
            "reproduce": reproduce,
            "examples": [
                {"example": e.example, "seed": e.seed, "comparisons": list(e.comparisons)} for e in result.examples
            ],
        }
    )


def run_record(
    master_seed: int, budget: str, device: str, strict: bool, workers: int, sampler: str = "auto"
) -> dict[str, Any]:
    """The ledger's ``run`` section: seed, budget, device and package versions."""
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "seed": master_seed,
        "budget": budget,
        "device": device,
        "sampler": sampler,
        "strict": strict,
        "workers": workers,
        "platform": platform.platform(),
        "versions": versions,
    }


def write_ledger(path: str | os.PathLike[str], run: Mapping[str, Any], claims: Iterable[Mapping[str, Any]]) -> Path:
    """Write the ledger (claims sorted by id) atomically: temp file in place, then rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {"run": dict(run), "claims": sorted(claims, key=lambda c: c["id"])}
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(handle, "w") as stream:
        json.dump(payload, stream, indent=1, sort_keys=True)
        stream.write("\n")
    os.replace(temporary, target)
    return target


def read_ledger(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a ledger; a clear error if it is not one."""
    with open(path) as stream:
        data = json.load(stream)
    if not isinstance(data, dict) or "run" not in data or "claims" not in data:
        raise ValueError(f"{path} is not a claims ledger (needs 'run' and 'claims')")
    return data
