"""Power table: run claims under N master seeds and tabulate how often each gets its required verdict.

For a true claim the required verdict is *supported* (rate = power to support it); for a false twin
it is *refuted* (rate = power to refute it). The *error rate* is the wrong decisive verdict: refuted
for a true claim (bounded by the declared alpha, Holm), supported for a twin (bounded by alpha when the
twin is off by more than its margin: intersection-union TOST). Rates get two-sided Clopper-Pearson
intervals (statsmodels ``proportion_confint(method="beta")``) at ``confidence``. Beside each observed
rate sits the mean over seeds of the claim's *predicted* power (``engine.power``: the power of its own
tests at its own estimates), for the calibration figure (``reports.plots.calibration_figure``).

Status against the target power (default 0.95): "meets target" if the interval's lower end is >= it,
"below target" if its upper end is < it, else "consistent with target (more seeds needed)". Against
alpha: "exceeds alpha" if the error rate's lower end is > alpha, else "consistent with alpha".
Each (claim, seed) cell is ``engine.runner.run_claim``, the same as the pytest plugin's (master seed s
gives the same verdict as ``pytest --claims-seed s``). A cell that raises is tallied as "crashed" (never
as the required verdict) with its message, so one broken claim does not lose a long study.

Suite-wide error rate (``suite_error_rates``): the fraction of seeds in which *some* true claim was
refuted (every true claim run under that seed), with its Clopper-Pearson interval, against two bounds:
Bonferroni's union bound sum of the true claims' alphas (what the design guarantees when all are true),
and the union of the measured per-claim error rates (sum of the rates and of their upper ends).

How many seeds: with every one of N seeds as required, the two-sided 95% Clopper-Pearson lower end is
(0.025)^(1/N): 0.83 for N = 20, so 20 seeds can show a claim *below* a 0.95 target (e.g. 15/20: upper
end 0.94) but never certify it; "meets target" needs N >= 72 all-required seeds.

Engine: Dask distributed (``engine.cluster``). One (claim, seed) cell is one task (``run_one``), given
the claim id and the registry string (claims hold Hypothesis strategies that do not pickle; each worker
imports the registry itself, ``registered``). With no ``scheduler`` a ``LocalCluster`` of ``jobs``
single-thread workers (default: every core) runs in this process; ``scheduler="tcp://HOST:PORT"`` uses
a running cluster (``dask scheduler`` / ``dask worker``, dask-jobqueue on Slurm). Each task sets
``threads`` torch threads (default: cores / jobs locally, 1 on a given scheduler, where one worker
process per core is the norm). Results stream back as they finish (``as_completed``) and each is
appended to the cell store (``reports.cells.CellStore``, JSONL, one fsynced line per cell) before it
is counted: a rerun with the same store computes only the cells missing from it, so an interrupted
study (Ctrl-C, a killed process) resumes where it stopped, loses at most the cells in flight and never
stores a cell twice. A task whose worker dies is rescheduled by Dask on another worker (up to Dask's
``allowed-failures``); a cell that cannot run at all (the worker cannot import the registry or does not
know the claim, an unavailable device) ends the study with ``StudyFailed``, its finished cells stored.
The registry is ``engine.registry.all_claims`` unless ``registry`` names another ``module:function``
(the tests use a module of toy claims; workers must be able to import it).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import os
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from statsmodels.stats.proportion import proportion_confint

from engine.budget import BUDGETS
from engine.claim import Claim
from engine.cluster import available_cores, check_scheduler_address, dask_client
from engine.ledger import run_record
from engine.options import DEVICE_CHOICES, SAMPLERS
from engine.power import POWER_TARGET, predicted_power
from reports.cells import CellStore, store_path

VERDICTS = ("supported", "inconclusive", "refuted")
ERROR = "crashed"
DEFAULT_REGISTRY = "engine.registry:all_claims"
# What a cell keeps in the power table's runs (the store keeps the rest too: settings, worker).
RUN_FIELDS = ("id", "master_seed", "verdict", "decisive", "estimate", "predicted_power", "seconds", "error")

__all__ = ["CellStore", "power_study", "select_claims", "store_path", "summarise"]


class StudyFailed(RuntimeError):
    """A cell could not be computed at all (not a claim that raised: that is tallied as crashed)."""


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


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


def run_one(
    claim_id: str,
    master_seed: int,
    budget: str,
    device: str,
    sampler: str,
    registry: str = DEFAULT_REGISTRY,
    threads: int | None = None,
) -> dict[str, Any]:
    """Decide one claim under one master seed (one Dask task): its verdict, decisive estimate and
    predicted power, or the error the claim raised. ``threads`` sets torch's thread count first.

    What is not the claim's doing raises instead of becoming a crashed cell (which would be stored and
    never recomputed): a registry the worker cannot import, a claim id it does not know, a device it
    does not have (``device`` is resolved here, on the worker: "auto" is its own CUDA or CPU)."""
    import torch

    from engine.runner import run_claim
    from estimators.device import resolve_device

    claim = registered(registry).get(claim_id)
    if claim is None:
        raise ValueError(f"claim {claim_id!r} is not in registry {registry!r} on this worker (other code?)")
    device = str(resolve_device(device))
    if threads:
        torch.set_num_threads(threads)
    cell = {"id": claim_id, "master_seed": master_seed, "budget": budget, "device": device, "sampler": sampler,
            "worker": _worker_address()}  # fmt: skip
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # Dask's own threads draw from the global `random` while Hypothesis draws an example in this one, and
            # Hypothesis takes that for a strategy using `random`; its examples come from its own seeded PRNG
            warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
            result = run_claim(claim, budget, master_seed, device, sampler)
        predicted = predicted_power(result).power
    except Exception as error:  # a broken claim is tallied, not allowed to end a long study
        return {
            **cell,
            "verdict": ERROR,
            "error": f"{type(error).__name__}: {error}"[:500],
            "seconds": round(time.perf_counter() - started, 3),
        }
    return {
        **cell,
        "verdict": result.verdict.value,
        "decisive": result.decisive.label,
        "estimate": result.decisive.estimate,
        "predicted_power": predicted,
        "seconds": round(result.seconds, 3),
    }


def rate(successes: int, trials: int, confidence: float) -> tuple[float, list[float]]:
    """Proportion and its two-sided Clopper-Pearson interval."""
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="beta")
    return successes / trials, [float(low), float(high)]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


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
                "predicted_power": _mean([r["predicted_power"] for r in mine if "predicted_power" in r]),
                "mean_seconds": sum(r["seconds"] for r in mine) / len(mine),
                "runs": mine,
            }
        )
    return table


def suite_error_rates(table: Sequence[dict[str, Any]], confidence: float) -> dict[str, Any]:
    """How often one of the true claims is refuted when all are true (module docstring): measured over
    the seeds in which every true claim of ``table`` ran, and bounded (Bonferroni; measured union)."""
    true = [c for c in table if not c["twin_of"]]
    twins = [c for c in table if c["twin_of"]]

    def any_wrong(claims: Sequence[dict[str, Any]], wrong: str) -> dict[str, Any] | None:
        if not claims:
            return None
        by_seed = [{r["master_seed"]: r["verdict"] for r in c["runs"]} for c in claims]
        seeds = sorted(set.intersection(*(set(v) for v in by_seed)))
        if not seeds:
            return None
        hits = [s for s in seeds if any(v[s] == wrong for v in by_seed)]
        value, ci = rate(len(hits), len(seeds), confidence)
        return {"claims": len(claims), "seeds": len(seeds), "count": len(hits), "rate": value, "ci": ci,
                "seeds_hit": hits}  # fmt: skip

    return {
        "true_claims": len(true),
        "any_true_refuted": any_wrong(true, "refuted"),
        "any_twin_supported": any_wrong(twins, "supported"),
        "bound_bonferroni": min(1.0, sum(c["alpha"] for c in true)),
        "bound_from_rates": min(1.0, sum(c["error_rate"]["rate"] for c in true)),
        "bound_from_rate_intervals": min(1.0, sum(c["error_rate"]["ci"][1] for c in true)),
    }


def _check_study(
    claim_ids: Sequence[str],
    seeds: Sequence[int],
    budget: str,
    device: str,
    sampler: str,
    jobs: int | None,
    threads: int | None,
    target: float,
    confidence: float,
    registry: str,
    scheduler: str | None,
) -> None:
    """ValueError naming the first bad argument of ``power_study``."""
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; choose one of {list(BUDGETS)}")
    if device not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {list(DEVICE_CHOICES)}, got {device!r}")
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {list(SAMPLERS)}, got {sampler!r}")
    if not seeds:
        raise ValueError("power study needs at least one seed")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad:
        raise ValueError(f"master seeds must be integers >= 0, got {bad}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"master seeds repeat: {sorted(s for s in set(seeds) if list(seeds).count(s) > 1)}")
    if not claim_ids:
        raise ValueError("power study needs at least one claim")
    if len(set(claim_ids)) != len(claim_ids):
        raise ValueError("claim ids repeat")
    unknown = [c for c in claim_ids if c not in registered(registry)]
    if unknown:
        raise ValueError(f"unknown claim id(s): {unknown}")
    if scheduler is not None:
        check_scheduler_address(scheduler)
        if jobs is not None:
            raise ValueError("jobs sizes the local cluster; with a scheduler the cluster's own workers are used")
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if not 0 < target < 1:
        raise ValueError(f"power target must lie in (0, 1), got {target}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def power_study(
    claim_ids: Sequence[str],
    seeds: Sequence[int],
    budget: str = "quick",
    device: str = "auto",
    sampler: str = "auto",
    jobs: int | None = None,
    threads: int | None = None,
    target: float = POWER_TARGET,
    confidence: float = 0.95,
    progress: Callable[[int], Any] | None = None,
    registry: str = DEFAULT_REGISTRY,
    scheduler: str | None = None,
    store: str | os.PathLike[str] | None = None,
    on_cell: Callable[[dict[str, Any]], Any] | None = None,
    connect_timeout: float = 30.0,
) -> dict[str, Any]:
    """Run every (claim, seed) cell as a Dask task (module docstring) and return the power JSON.

    ``scheduler`` None: a LocalCluster of ``jobs`` workers (default: every core); else a running
    cluster's address (``jobs`` must then be None). ``threads``: torch threads per task (default: cores /
    jobs locally, 1 on a given scheduler). ``store``: the JSONL cell store to resume from and append to
    (None: none). ``progress(n)`` is called once the cluster is up (n: the cells found in the store, maybe
    0), then with 1 as each cell finishes; ``on_cell(cell)`` with each newly computed cell once stored.
    ``device`` "auto" is resolved here for a local cluster and on each worker for a given scheduler (where
    this process may have no GPU).
    """
    _check_study(claim_ids, seeds, budget, device, sampler, jobs, threads, target, confidence, registry, scheduler)
    if scheduler is None:
        from estimators.device import resolve_device  # torch, only now

        device = str(resolve_device(device))
        jobs = jobs or available_cores()
        threads = threads or max(1, available_cores() // jobs)
    else:
        threads = threads or 1
    settings = {"budget": budget, "device": device, "sampler": sampler, "registry": registry}
    wanted = [(claim_id, seed) for seed in seeds for claim_id in claim_ids]
    started = time.perf_counter()
    cluster: dict[str, Any] = {"scheduler": None, "kind": "none: every cell came from the store"}
    with CellStore(store, settings) if store is not None else nullcontext() as cells:
        done = {task: cells.get(*task) for task in wanted if cells is not None and task in cells}
        todo = [task for task in wanted if task not in done]
        if progress and not todo:
            progress(len(done))
        if todo:
            from distributed import as_completed

            with dask_client(scheduler, jobs, connect_timeout) as (client, cluster):
                if progress:
                    progress(len(done))  # first call: every argument checked, the cluster is up
                futures = {
                    client.submit(run_one, c, seed, budget, device, sampler, registry, threads, pure=False): (c, seed)
                    for c, seed in todo
                }
                for future in as_completed(futures, loop=client.loop):
                    task = futures[future]
                    try:
                        cell = future.result()
                    except Exception as error:
                        stored = f"{len(cells)} cells stored in {cells.path}" if cells is not None else "no store"
                        raise StudyFailed(
                            f"cell {task[0]} seed {task[1]} could not be computed ({type(error).__name__}: "
                            f"{str(error)[:300]}); {stored}: fix the cause and rerun to resume"
                        ) from None
                    if task in done:
                        continue
                    done[task] = cell
                    if cells is not None:
                        cells.add(cell)
                    if progress:
                        progress(1)
                    if on_cell:
                        on_cell(cell)
    runs = [{k: done[task][k] for k in RUN_FIELDS if k in done[task]} for task in wanted]
    environment = run_record(master_seed=-1, budget=budget, device=device, strict=False, workers=jobs or 0,
                             sampler=sampler)  # fmt: skip
    table = summarise(runs, target, confidence, registry)
    return {
        "run": {
            "seeds": list(seeds),
            "budget": budget,
            "device": device,
            "sampler": sampler,
            "engine": "dask",
            "cluster": cluster,
            "jobs": jobs,
            "threads": threads,
            "target": target,
            "confidence": confidence,
            "seconds": round(time.perf_counter() - started, 1),
            "run_seconds": round(sum(r["seconds"] for r in runs), 1),
            "cells": len(runs),
            "cells_from_store": len(wanted) - len(todo),
            "store": None if store is None else str(store),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "versions": environment["versions"],
        },
        "suite": suite_error_rates(table, confidence),
        "claims": table,
    }


def format_table(power: dict[str, Any]) -> str:
    """Plain-text power table."""
    run = power["run"]
    header = ("claim", "required", "seeds", "sup/inc/ref", f"rate [{run['confidence']:.0%} CP]", "predicted",
              "vs target", "error rate [CP]", "vs alpha")  # fmt: skip
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
                "–" if c.get("predicted_power") is None else f"{c['predicted_power']:.3f}",
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
    suite = suite_text(power.get("suite"))
    return "\n".join([*lines, footer, *suite, *(["runs that raised:", *errors] if errors else [])])


def suite_text(suite: dict[str, Any] | None) -> list[str]:
    """The suite-wide error-rate statement (``suite_error_rates``) as lines of text."""
    if not suite:
        return []
    lines = []
    for key, what in (("any_true_refuted", "some true claim refuted"), ("any_twin_supported", "some twin supported")):
        m = suite.get(key)
        if m:
            lines.append(
                f"suite: {what} in {m['count']}/{m['seeds']} seeds ({m['claims']} claims): rate {m['rate']:.3f} "
                f"[{m['ci'][0]:.3f}, {m['ci'][1]:.3f}]"
            )
    lines.append(
        f"suite bound (all {suite['true_claims']} true claims true): Bonferroni sum of alphas "
        f"{suite['bound_bonferroni']:.3f}; union of measured error rates {suite['bound_from_rates']:.3f} "
        f"(of their upper ends {suite['bound_from_rate_intervals']:.3f})"
    )
    return lines
