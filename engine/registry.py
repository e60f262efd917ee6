"""The claim registry: every ``Claim`` defined at module level under ``theorems/``."""

from __future__ import annotations

import importlib
import pkgutil

import theorems
from engine.claim import Claim


def all_claims() -> list[Claim]:
    """All registered claims, sorted by id; duplicate ids are an error."""
    claims: dict[str, Claim] = {}
    for module_info in pkgutil.iter_modules(theorems.__path__):
        module = importlib.import_module(f"theorems.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, Claim):
                if value.id in claims and claims[value.id] is not value:
                    raise ValueError(f"duplicate claim id {value.id!r} in theorems.{module_info.name}")
                claims[value.id] = value
    return [claims[k] for k in sorted(claims)]


def get_claim(claim_id: str) -> Claim:
    """The registered claim with this id; a clear error listing the ids otherwise."""
    claims = {c.id: c for c in all_claims()}
    if claim_id not in claims:
        raise ValueError(f"unknown claim {claim_id!r}; registered: {sorted(claims)}")
    return claims[claim_id]
