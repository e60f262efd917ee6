"""Run one claim: Hypothesis draws examples, each example is measured with its own derived
seed, and all comparisons are decided together at the claim's family-wise alpha."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from unittest import mock

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.internal.conjecture import providers

from engine.budget import MonteCarlo
from engine.claim import Claim
from engine.evidence import ClaimResult, ExampleEvidence
from engine.rules import decide
from engine.seeding import derive_seed
from engine.serialize import canonical_json


@contextlib.contextmanager
def examples_from_seed_only() -> Iterator[None]:
    """Draw examples that depend on (seed, claim strategy, Hypothesis version) only.

    Hypothesis (>= 6.1xx) replaces ~5% of drawn values by constants harvested from the source of every
    non-library module in ``sys.modules``, so the examples of one seed would change with which project
    modules happen to be imported (``-k`` selection, xdist scheduling, an edit anywhere in the project).
    We switch that pool off (private API ``providers._get_local_constants``; guarded, and
    ``tests/engine/test_runner.py`` fails if the guard stops working) and clear the cache built from it.
    Hypothesis's own global constants (edge cases such as 0 or the bounds) stay on.
    """
    local = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if local is None or cache is None:  # an older/newer Hypothesis without the pool: nothing to do
        yield
        return
    empty = providers.Constants()
    cache.cache.clear()
    try:
        with mock.patch.object(providers, "_get_local_constants", lambda: empty):
            yield
    finally:
        cache.cache.clear()


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

    with examples_from_seed_only():
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
