"""Power table: run claims under N master seeds and tabulate how often each gets its required verdict.

For a true claim the required verdict is *supported* (rate = power to support it); for a false twin
it is *refuted* (rate = power to refute it). The *error rate* is the wrong decisive verdict: refuted
for a true claim (bounded by the declared alpha, Holm), supported for a twin (bounded by alpha when the
twin is off by more than its margin: intersection-union TOST). Rates get two-sided Clopper-Pearson
intervals (statsmodels ``proportion_confint(method="beta")``) at ``confidence``.

Status against the target power (default 0.95): "meets target" if the interval's lower end is >= it,
"below target" if its upper end is < it, else "consistent with target (more seeds needed)". Against
alpha: "exceeds alpha" if the error rate's lower end is > alpha, else "consistent with alpha".
Each (claim, seed) run is ``engine.runner.run_claim``, the same as the pytest plugin's (master seed s
gives the same verdict as ``pytest --claims-seed s``). A run that raises is tallied as "crashed" (never as
the required verdict) with its message, so one broken claim does not lose a long study.

How many seeds: with every one of N seeds as required, the two-sided 95% Clopper-Pearson lower end is
(0.025)^(1/N): 0.83 for N = 20, so 20 seeds can show a claim *below* a 0.95 target (e.g. 15/20: upper
end 0.94) but never certify it; "meets target" needs N >= 72 all-required seeds.

Parallel jobs run in spawned processes (``multiprocessing`` "spawn"), each with ``threads`` torch
threads: a forked child of a process that has used torch's OpenMP pool can hang (seen here), and
claims hold Hypothesis strategies that do not pickle, so each job imports the registry itself and gets
claim ids. The registry is ``engine.registry.all_claims`` unless ``registry`` names another
``module:function`` (the tests use a module of toy claims).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from statsmodels.stats.proportion import proportion_confint

from engine.budget import BUDGETS
from engine.claim import Claim
from engine.ledger import run_record
from engine.runner import run_claim
from estimators.device import resolve_device

VERDICTS = ("supported", "inconclusive", "refuted")
ERROR = "crashed"
DEFAULT_REGISTRY = "engine.registry:all_claims"


@functools.cache
def registered(registry: str = DEFAULT_REGISTRY) -> dict[str, Claim]:
    """The claims of ``registry`` ("module:function" returning claims), imported once per process."""
    module, _, function = registry.partition(":")
    try:
        claims = getattr(importlib.import_module(module), function)()
    except (ImportError, AttributeError) as error:
        raise ValueError(f"registry {registry!r} is not an importable module:function ({error})") from None
    return {c.id: c for c in claims}


def select_claims(patterns: str | None, registry: str = DEFAULT_REGISTRY) -> list[str]:
    """Claim ids matching any of the comma-separated ``patterns`` (a glob if it has ``*?[``, else a
    substring), in registry order; all claims if None. A pattern that matches nothing is an error."""
    ids = list(registered(registry))
    if not patterns:
        return ids
    chosen: set[str] = set()
    for pattern in (p.strip() for p in patterns.split(",")):
        if not pattern:
            continue
        glob = any(ch in pattern for ch in "*?[")
        matched = {i for i in ids if (fnmatch.fnmatchcase(i, pattern) if glob else pattern in i)}
        if not matched:
            raise ValueError(f"--claims pattern {pattern!r} matches no registered claim")
        chosen |= matched
    if not chosen:
        raise ValueError(f"--claims {patterns!r} names no pattern")
    return [i for i in ids if i in chosen]


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def run_one(
    claim_id: str, master_seed: int, budget: str, device: str, sampler: str, registry: str = DEFAULT_REGISTRY
) -> dict[str, Any]:
    """Decide one claim under one master seed: its verdict and decisive estimate (or the error it raised)."""
    started = time.perf_counter()
    try:
        result = run_claim(registered(registry)[claim_id], budget, master_seed, device, sampler)
    except Exception as error:  # a broken claim is tallied, not allowed to end a long study
        return {
            "id": claim_id,
            "master_seed": master_seed,
            "verdict": ERROR,
            "error": f"{type(error).__name__}: {error}"[:500],
            "seconds": round(time.perf_counter() - started, 3),
        }
    return {
        "id": claim_id,
        "master_seed": master_seed,
        "verdict": result.verdict.value,
        "decisive": result.decisive.label,
        "estimate": result.decisive.estimate,
        "seconds": round(result.seconds, 3),
    }


def rate(successes: int, trials: int, confidence: float) -> tuple[float, list[float]]:
    """Proportion and its two-sided Clopper-Pearson interval."""
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="beta")
    return successes / trials, [float(low), float(high)]


def summarise(
    runs: Sequence[dict[str, Any]], target: float, confidence: float, registry: str = DEFAULT_REGISTRY
) -> list[dict[str, Any]]:
    """Per claim: verdict counts, rate of the required verdict and of the error verdict, with status."""
    table = []
    for claim_id in sorted({r["id"] for r in runs}):
        claim = registered(registry)[claim_id]
        mine = sorted((r for r in runs if r["id"] == claim_id), key=lambda r: r["master_seed"])
        counts = {v: sum(r["verdict"] == v for r in mine) for v in (*VERDICTS, ERROR)}
        wanted, wrong = ("refuted", "supported") if claim.twin_of else ("supported", "refuted")
        power, power_ci = rate(counts[wanted], len(mine), confidence)
        error, error_ci = rate(counts[wrong], len(mine), confidence)
        status = (
            "meets target"
            if power_ci[0] >= target
            else "below target"
            if power_ci[1] < target
            else "consistent with target (more seeds needed)"
        )
        table.append(
            {
                "id": claim_id,
                "twin_of": claim.twin_of,
                "alpha": claim.alpha,
                "wanted": wanted,
                "n_seeds": len(mine),
                "counts": counts,
                "rate": power,
                "ci": power_ci,
                "status": status,
                "error_rate": {
                    "verdict": wrong,
                    "rate": error,
                    "ci": error_ci,
                    "status": "exceeds alpha" if error_ci[0] > claim.alpha else "consistent with alpha",
                },
                "mean_seconds": sum(r["seconds"] for r in mine) / len(mine),
                "runs": mine,
            }
        )
    return table


def power_study(
    claim_ids: Sequence[str],
    seeds: Sequence[int],
    budget: str = "quick",
    device: str = "auto",
    sampler: str = "auto",
    jobs: int = 1,
    threads: int | None = None,
    target: float = 0.95,
    confidence: float = 0.95,
    progress: Callable[[int], Any] | None = None,
    registry: str = DEFAULT_REGISTRY,
) -> dict[str, Any]:
    """Run every (claim, seed) in ``jobs`` processes with ``threads`` torch threads each (default: the
    cores shared among the jobs); returns the power JSON. ``progress(1)`` is called as each run ends."""
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; choose one of {list(BUDGETS)}")
    if not seeds:
        raise ValueError("power study needs at least one seed")
    if not claim_ids:
        raise ValueError("power study needs at least one claim")
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    for name, value in (("target", target), ("confidence", confidence)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1), got {value}")
    unknown = sorted(set(claim_ids) - set(registered(registry)))
    if unknown:
        raise ValueError(f"unknown claim id(s): {unknown}")
    device = str(resolve_device(device))
    tasks = [(claim_id, seed) for seed in seeds for claim_id in claim_ids]
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    threads = threads or max(1, (os.cpu_count() or 1) // jobs)
    if jobs == 1:
        _init_worker(threads)
        for claim_id, seed in tasks:
            runs.append(run_one(claim_id, seed, budget, device, sampler, registry))
            if progress:
                progress(1)
    else:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=spawn, initializer=_init_worker, initargs=(threads,)) as pool:
            futures = [pool.submit(run_one, c, seed, budget, device, sampler, registry) for c, seed in tasks]
            for future in as_completed(futures):
                runs.append(future.result())
                if progress:
                    progress(1)
    environment = run_record(master_seed=-1, budget=budget, device=device, strict=False, workers=jobs, sampler=sampler)
    return {
        "run": {
            "seeds": list(seeds),
            "budget": budget,
            "device": device,
            "sampler": sampler,
            "jobs": jobs,
            "threads": threads,
            "target": target,
            "confidence": confidence,
            "seconds": round(time.perf_counter() - started, 1),
            "run_seconds": round(sum(r["seconds"] for r in runs), 1),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "versions": environment["versions"],
        },
        "claims": summarise(runs, target, confidence, registry),
    }


def format_table(power: dict[str, Any]) -> str:
    """Plain-text power table."""
    run = power["run"]
    header = ("claim", "required", "seeds", "sup/inc/ref", f"rate [{run['confidence']:.0%} CP]", "vs target",
              "error rate [CP]", "vs alpha")  # fmt: skip
    rows = [header]
    for c in power["claims"]:
        e = c["error_rate"]
        rows.append(
            (
                c["id"],
                c["wanted"],
                str(c["n_seeds"]),
                "/".join(str(c["counts"].get(v, 0)) for v in VERDICTS)
                + (f" +{c['counts'][ERROR]} crashed" if c["counts"].get(ERROR) else ""),
                f"{c['rate']:.2f} [{c['ci'][0]:.2f}, {c['ci'][1]:.2f}]",
                c["status"],
                f"{e['rate']:.2f} [{e['ci'][0]:.2f}, {e['ci'][1]:.2f}] ({e['verdict']})",
                f"{e['status']} ({c['alpha']:g})",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    errors = [f"  {c['id']} seed {r['master_seed']}: {r['error']}" for c in power["claims"] for r in c.get("runs", [])
              if r.get("verdict") == ERROR]  # fmt: skip
    footer = f"power target {run['target']:g}; seeds {run['seeds']}; budget {run['budget']}"
    return "\n".join([*lines, footer, *(["runs that raised:", *errors] if errors else [])])
