"""Benchmark grid: networks per second of ``sample_ntk`` with the dense vs the exact low-rank sampler.

``python -m estimators.bench --sampler-grid [--grid-widths 100,500,2000] [--grid-inputs 1,2,8]
[--depth 10] [--seconds S] [--json]``

Per cell (width n, k inputs) both samplers run ``sample_ntk`` end to end on
``VanillaNet(input_dim, depth, widths=n)`` — sampling included, since sampling *is* the work (the
dense sampler draws every n x n matrix, the exact one only what the k inputs see: O(L n k) normals
per network instead of O(L n^2)). Passes alternate between the two samplers (the one with less timed
time goes next) until each has ``--seconds`` of timed passes, so both see the same machine load;
the ratio ``ratio_vs_dense`` = exact rate / dense rate is measured in one run. The two samplers
draw different networks of the same law (``estimators.exact-sampler.same-law`` checks the law),
so there is no Gram-matrix comparison here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch

from estimators.ntk import sample_ntk
from models.vanilla import VanillaNet

DENSE = "dense_sampler"
EXACT = "exact_lowrank"
NETWORKS_PER_PASS = {DENSE: 16, EXACT: 512}


def _timed(run: Callable[[], object], device: torch.device) -> Callable[[], float]:
    """A callable running one pass of ``run`` and returning its wall seconds."""

    def one_pass() -> float:
        started = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - started

    return one_pass


def time_cell(
    width: int, n_inputs: int, depth: int, input_dim: int, x_all: torch.Tensor, seconds: float, device: torch.device
) -> dict[str, tuple[float, float, int]]:
    """{sampler: (nets/s, timed seconds, passes)} for one (width, k) cell, passes interleaved."""
    spec = VanillaNet(input_dim=input_dim, depth=depth, widths=width)
    x = x_all[:n_inputs].cpu()
    passes: dict[str, Callable[[], float]] = {}
    for name, sampler in ((DENSE, "dense"), (EXACT, "exact")):
        n = NETWORKS_PER_PASS[name]
        run = partial(sample_ntk, spec, x, n, 0, sampler=sampler, device=device, dtype=torch.float64)
        run()  # warm-up
        passes[name] = _timed(run, device)
    elapsed = dict.fromkeys(passes, 0.0)
    count = dict.fromkeys(passes, 0)
    while pending := [name for name in passes if count[name] == 0 or elapsed[name] < seconds]:
        name = min(pending, key=elapsed.__getitem__)
        elapsed[name] += passes[name]()
        count[name] += 1
    rates = {name: NETWORKS_PER_PASS[name] * count[name] / elapsed[name] for name in passes}
    return {name: (rates[name], elapsed[name], count[name]) for name in passes}


def run_sampler_grid(
    widths: list[int],
    inputs: list[int],
    depth: int,
    input_dim: int,
    seconds: float,
    device: torch.device,
    x_all: torch.Tensor,
) -> list[dict[str, Any]]:
    """One JSON-ready row per (width, k, sampler) with ``nets_per_s`` and ``ratio_vs_dense``."""
    rows = []
    for width in widths:
        for n_inputs in inputs:
            cell = time_cell(width, n_inputs, depth, input_dim, x_all, seconds, device)
            dense_rate = cell[DENSE][0]
            for name, (rate, elapsed, count) in cell.items():
                rows.append({
                    "name": name, "nets_per_s": rate, "ratio_vs_dense": rate / dense_rate, "device": str(device),
                    "width": width, "depth": depth, "inputs": n_inputs, "dtype": "float64", "input_dim": input_dim,
                    "networks_per_pass": NETWORKS_PER_PASS[name], "passes": count, "elapsed_s": elapsed,
                    "threads": torch.get_num_threads(), "sampling_timed": True,
                })
    return rows


def format_grid(rows: list[dict[str, Any]]) -> str:
    """Human-readable table of ``run_sampler_grid`` rows."""
    head = rows[0]
    lines = [
        f"sample_ntk end to end (sampling included): VanillaNet(depth={head['depth']}), float64, device "
        f"{head['device']} ({head['threads']} torch threads); dense draws every matrix, exact only what k inputs see",
        "",
        f"{'width':>6}{'k':>4}{'dense nets/s':>15}{'exact nets/s':>15}{'ratio':>9}",
    ]
    by_cell: dict[tuple[int, int], dict[str, float]] = {}
    for row in rows:
        by_cell.setdefault((row["width"], row["inputs"]), {})[row["name"]] = row["nets_per_s"]
    for (width, k), rates in by_cell.items():
        lines.append(f"{width:>6}{k:>4}{rates[DENSE]:>15.2f}{rates[EXACT]:>15.1f}{rates[EXACT] / rates[DENSE]:>9.1f}")
    return "\n".join(lines)
