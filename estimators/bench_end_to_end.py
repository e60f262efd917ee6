"""End-to-end benchmark rows: ``sample_ntk`` as a user waits for it, weight drawing included.

Rows ``end-to-end-<sampler>-<dtype>`` for ``sample_ntk(VanillaNet(input_dim, depth, widths=width), x,
n_draws, seed, sampler=...)`` on k unit inputs (one warm-up call, then whole calls timed until
``seconds``), and ``end-to-end-conv-dense-<dtype>`` for the composed conv net of ``bench_composed``.
Each row has ``nets_per_s``, ``weight_drawing_timed: true``, ``normals_per_net`` (dense: every weight
entry; exact: k (fan_in + fan_out) per matrix, forward and backward noise) and

    rng_bound_fraction = nets_per_s * normals_per_net / (float32 torch.randn normals per second),

the last measured in the same run on the same device (``randn_float32_per_s``), in calls that take turns
with the row's own calls: 1.0 means the sampler runs as fast as drawing its normals in float32 allows.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import torch

from estimators.bench_composed import conv_net
from estimators.bench_timing import DTYPES, bench_inputs
from estimators.ntk import sample_ntk
from models.base import ArchitectureSpec
from models.vanilla import VanillaNet

MIN_RANDN_CALL = 2**22  # normals per timed randn call at least (a tiny net's calls would time only overhead)


def randn_float32_call(device: torch.device, numel: int) -> Callable[[], None]:
    """One call drawing ``numel`` float32 normals with torch's generator on ``device`` (the RNG bound)."""
    generator = torch.Generator(device=device).manual_seed(0)
    out = torch.empty(numel, dtype=torch.float32, device=device)

    def run() -> None:
        torch.randn(numel, generator=generator, out=out)
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return run


def normals_per_net(spec: ArchitectureSpec, sampler: str, n_inputs: int) -> int:
    """Standard normals one network needs under ``sampler`` (see the module docstring)."""
    if sampler == "dense":
        return spec.n_parameters(trained_only=False)
    return sum(n_inputs * (o + i) for o, i in spec.weight_shapes().values())


def time_against_rng(spec: ArchitectureSpec, x: torch.Tensor, n_draws: int, sampler: str, dtype: torch.dtype,
                     device: torch.device, seconds: float) -> tuple[float, float, int]:  # fmt: skip
    """(nets/s, float32 normals/s, calls): whole ``sample_ntk`` calls (drawing included; fresh seeds) and
    float32 ``torch.randn`` calls of the same normal count (at least ``MIN_RANDN_CALL``), taking turns after
    one warm-up each, so both rates see the same machine load."""
    normals = max(normals_per_net(spec, sampler, x.shape[0]) * n_draws, MIN_RANDN_CALL)
    draw = randn_float32_call(device, normals)
    seed = 0

    def run() -> None:
        nonlocal seed
        sample_ntk(spec, x, n_draws, seed, sampler=sampler, device=device, dtype=dtype)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seed += 1  # fresh networks every call, as a user's next batch

    run()
    draw()
    spent = {"sample": 0.0, "randn": 0.0}
    calls = 0
    while calls == 0 or min(spent.values()) < seconds:
        for key, call in (("sample", run), ("randn", draw)):
            started = time.perf_counter()
            call()
            spent[key] += time.perf_counter() - started
        calls += 1
    return calls * n_draws / spent["sample"], calls * normals / spent["randn"], calls


def run_end_to_end_rows(args: argparse.Namespace, device: torch.device) -> list[dict[str, Any]]:
    """The ``end-to-end`` rows: dense and exact sampler x float32 and float64, and the conv net (dense)."""
    vanilla = VanillaNet(input_dim=args.input_dim, depth=args.depth, widths=args.width)
    conv = conv_net(args.conv_positions, args.conv_in_channels, args.conv_channels, args.conv_depth)
    cases: list[tuple[str, ArchitectureSpec, str, int]] = [
        ("", vanilla, "dense", args.end_to_end_draws),
        ("", vanilla, "exact", args.end_to_end_exact_draws),
        ("conv-", conv, "dense", args.end_to_end_draws),
    ]
    rows = []
    for label, spec, sampler, n_draws in cases:
        for dtype_name in ("float32", "float64"):
            x = bench_inputs(args.inputs, spec.input_dim, torch.float64, torch.device("cpu"))
            rate, bound, calls = time_against_rng(spec, x, n_draws, sampler, DTYPES[dtype_name], device, args.seconds)
            normals = normals_per_net(spec, sampler, args.inputs)
            rows.append({
                "name": f"end-to-end-{label}{sampler}-{dtype_name}", "nets_per_s": rate,
                "weight_drawing_timed": True, "normals_per_net": normals,
                "rng_bound_fraction": rate * normals / bound, "randn_float32_per_s": bound,
                "sampler": sampler, "dtype": dtype_name, "device": str(device), "n_draws": n_draws,
                "calls": calls, "inputs": args.inputs, "spec": spec.to_json(),
            })  # fmt: skip
    return rows


def format_end_to_end(rows: list[dict[str, Any]]) -> str:
    """Human-readable table of the end-to-end rows."""
    lines = [
        f"sample_ntk end to end on {rows[0]['device']}, weight drawing timed, each row taking turns with float32 "
        "torch.randn of its normals",
        f"{'row':<34}{'nets/s':>12}{'normals/net':>14}{'randn M/s':>12}{'rng bound fraction':>20}",
    ]
    for row in rows:
        lines.append(
            f"{row['name']:<34}{row['nets_per_s']:>12.2f}{row['normals_per_net']:>14,d}"
            f"{row['randn_float32_per_s'] / 1e6:>12.1f}{row['rng_bound_fraction']:>20.3f}"
        )
    return "\n".join(lines)
