"""Verdicts and the evidence behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from math import nan
from typing import Any


class Verdict(StrEnum):
    """Outcome of deciding a claim at the declared family-wise error rate."""

    SUPPORTED = "supported"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Comparison:
    """One tested quantity of one example: estimate, interval and both p-values.

    ``p_refute`` tests H0: quantity == prediction (small p: evidence against the claim);
    ``p_equivalence`` tests H0: quantity outside the margin (small p: evidence for the claim).

    What the tests were computed from, for the power they had (``engine.power``): ``standard_error``
    and ``dof`` of the estimate (``inf``: normal; ``nan``: the rule's test has none, e.g. KS), the
    ``support_bounds`` the support tests show the estimate inside (one-sided at alpha each; an infinite
    end: no test on that side; None: the comparison can only refute) and the ``refute_bounds`` of the
    region the refutation test rejects outside of (equal ends: a two-sided point null).
    """

    label: str
    estimate: float
    ci: tuple[float, float]
    prediction: float
    statistic: float
    p_refute: float
    p_equivalence: float
    n_samples: int
    standard_error: float = nan
    dof: float = nan
    support_bounds: tuple[float, float] | None = None
    refute_bounds: tuple[float, float] | None = None


@dataclass(frozen=True)
class ExampleEvidence:
    """Evidence from one Hypothesis example: its parameters, seed and comparisons."""

    example: Any
    seed: int
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on a claim with its decisive comparison and all examples."""

    claim_id: str
    twin_of: str | None
    verdict: Verdict
    decisive: Comparison
    alpha: float
    seed: int
    budget: str
    rule: str
    examples: tuple[ExampleEvidence, ...]
    seconds: float
    adjusted_p_refute: tuple[float, ...] = field(default=())

    @property
    def n_samples(self) -> int:
        return sum(c.n_samples for e in self.examples for c in e.comparisons[:1])
