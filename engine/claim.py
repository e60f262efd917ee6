"""A claim is data: statement, citation, what Hypothesis draws, what is estimated, the
prediction, and the decision rule. ``Claim.twin`` makes a deliberately false mutation."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis.strategies import SearchStrategy

from engine.budget import DEFAULT_DRAWS, DEFAULT_EXAMPLES, MonteCarlo, Sizes
from engine.rules import DecisionRule

Measure = Callable[[Any, MonteCarlo], Any]


@dataclass(frozen=True)
class Claim:
    """One checkable statement.

    ``draw`` yields examples (JSON-serialisable parameters); ``measure(example, mc)`` runs the
    estimator with ``mc.n_draws`` draws seeded by ``mc.seed`` and returns the sample ``rule``
    understands (e.g. a ``PairedSample``); ``rule`` compares it with ``prediction``.
    ``twin_of`` names the true claim a false twin mutates (None for a true claim).
    """

    id: str
    statement: str
    citation: str
    draw: SearchStrategy[Any]
    measure: Measure
    prediction: float
    rule: DecisionRule
    n_draws: Sizes = DEFAULT_DRAWS
    n_examples: Sizes = DEFAULT_EXAMPLES
    alpha: float = 0.01
    twin_of: str | None = None

    def __post_init__(self) -> None:
        if not self.id or any(ch.isspace() or ch in "[]" for ch in self.id):
            raise ValueError(f"Claim.id must be non-empty without whitespace or brackets, got {self.id!r}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"Claim.alpha must be in (0, 1), got {self.alpha!r}")

    def twin(self, *, id: str, statement: str, **changes: Any) -> Claim:
        """A deliberately false copy of this claim (a negative control that must be refuted)."""
        return dataclasses.replace(self, id=id, statement=statement, twin_of=self.id, **changes)
