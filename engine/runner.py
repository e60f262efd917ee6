"""Run one claim: Hypothesis draws examples, each example is measured with its own derived
seed, and all comparisons are decided together at the claim's family-wise alpha."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, Phase, given, seed, settings

from engine.budget import MonteCarlo
from engine.claim import Claim
from engine.evidence import ClaimResult, ExampleEvidence
from engine.rules import decide
from engine.seeding import derive_seed
from engine.serialize import canonical_json


def run_claim(
    claim: Claim, budget: str = "quick", master_seed: int = 0, device: str = "auto", sampler: str = "auto"
) -> ClaimResult:
    """Decide ``claim`` under ``budget``; reproducible from (master_seed, claim.id)."""
    started = time.perf_counter()
    claim_seed = derive_seed(master_seed, claim.id)
    n_draws = claim.n_draws.at(budget)
    max_examples = claim.n_examples.at(budget)
    measured: dict[str, tuple[object, int, object]] = {}

    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @seed(claim_seed)
    @given(claim.draw)
    def explore(example: object) -> None:
        key = canonical_json(example)
        if key not in measured:
            example_seed = derive_seed(master_seed, claim.id, key)
            mc = MonteCarlo(n_draws=n_draws, seed=example_seed, device=device, sampler=sampler)
            measured[key] = (example, example_seed, claim.measure(example, mc))

    explore()
    n_comparisons = sum(len(sample.labels) for _, _, sample in measured.values())  # type: ignore[attr-defined]
    interval_level = 1.0 - claim.alpha / n_comparisons
    examples = tuple(
        ExampleEvidence(example, example_seed, claim.rule.compare(sample, claim.prediction, interval_level))  # type: ignore[arg-type]
        for example, example_seed, sample in (measured[k] for k in sorted(measured))
    )
    comparisons = [c for e in examples for c in e.comparisons]
    verdict, decisive, adjusted = decide(comparisons, claim.alpha)
    return ClaimResult(
        claim_id=claim.id,
        twin_of=claim.twin_of,
        verdict=verdict,
        decisive=comparisons[decisive],
        alpha=claim.alpha,
        seed=claim_seed,
        budget=budget,
        rule=claim.rule.describe(claim.prediction),
        examples=examples,
        seconds=time.perf_counter() - started,
        adjusted_p_refute=adjusted,
    )
