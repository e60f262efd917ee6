"""Benchmark: networks per second for the empirical NTK Gram matrix, factorised vs torch.func.

Usage::

    python -m estimators.bench [--json] [--device auto|cpu|cuda] [--width 500] [--depth 10]
                               [--inputs 2] [--networks N] [--dtype float64|float32] [--seconds S]
                               [--batch 32] [--input-dim 8]
    python -m estimators.bench --sampler-grid [--grid-widths 100,500,2000] [--grid-inputs 1,2,8] [--json]
    python -m estimators.bench --end-to-end [--json] [--end-to-end-draws 48] [--end-to-end-exact-draws 4000]
    python -m estimators.bench --fig3a-sweep [--sweep-depths 50] [--sweep-draws 5000] [--dtype float32]

The second form times ``sample_ntk`` with the dense vs the exact sampler (``estimators.bench_samplers``;
JSON rows carry ``ratio_vs_dense``); the third times a Fig. 3a-scale depth sweep
(``estimators.bench_sweep``). The first form is described here:

Both methods compute the Gram matrix K(x_i, x_j) = sum_W K_W(x_i, x_j) of the SAME ``--networks``
vanilla ReLU nets (``models.VanillaNet(input_dim, depth, widths=width)``, N(0, 1) weights drawn
once with ``estimators.sampling.draw_weights``) on ``--inputs`` fixed unit-norm inputs:

* ``factorised`` (ours, ``estimators.ntk.ntk_of_weights``) runs batches of ``--batch`` networks
  through one forward and one backward pass and uses, for every dense layer y = s W h,

      K_W(x, x') = <df/dW(x), df/dW(x')> = s^2 <df/dy(x), df/dy(x')> <h(x), h(x')>,

  so no per-parameter Jacobian is ever formed;
* ``torch_func_jacrev`` (``estimators.reference.jacrev_ntk``) loops over the networks and, for
  each, materialises the per-parameter Jacobian dF(x_i)/dW with ``vmap(jacrev(...))`` and
  contracts it: K(x_i, x_j) = sum_W <dF(x_i)/dW, dF(x_j)/dW>.

Only the NTK computation is timed (weight drawing is excluded). Each method gets one warm-up call,
then whole passes over all networks are repeated, the two methods taking turns (the one with less
timed time goes next) so that both see the same machine load, until each has accumulated at least
``--seconds`` of timed passes (``time.perf_counter``; ``torch.cuda.synchronize`` around every timed
pass on CUDA). The Gram
matrices of the timed networks are compared: ``max_rel_diff`` = max over networks of
max|K_ours - K_jacrev| / max|K_jacrev|. A difference above the dtype's tolerance makes the exit
status 1, since a benchmark of methods that disagree measures nothing.

Output: a human-readable table, or with ``--json`` one JSON object per method and line with keys
``name``, ``nets_per_s``, ``ratio_vs_torch_func`` (factorised / jacrev rate; 1.0 for jacrev) and
``device``, ``width``, ``depth``, ``inputs``, ``dtype``, ``max_rel_diff`` plus a few descriptive
extras (``input_dim``, ``networks``, ``batch``, ``threads``, ``elapsed_s``, ``passes``,
``weight_drawing_timed``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import torch

from estimators.bench_composed import run_composed_rows
from estimators.bench_end_to_end import format_end_to_end, run_end_to_end_rows
from estimators.bench_samplers import format_grid, run_sampler_grid
from estimators.bench_sweep import format_sweep, run_sweep
from estimators.bench_timing import (
    DTYPES,
    TOLERANCE,
    Method,
    bench_inputs,
    bench_weights,
    factorised_gram,
    jacrev_gram,
    max_relative_difference,
    time_methods,
)
from estimators.device import DEVICE_CHOICES, resolve_device
from estimators.ntk import ntk_of_weights, sample_ntk
from estimators.reference import jacrev_ntk
from models.vanilla import VanillaNet

FACTORISED = "factorised"
JACREV = "torch_func_jacrev"
EXACT = "exact_lowrank"
DEFAULT_NETWORKS = 32
DEFAULT_BATCH = 32


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def _non_negative_seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= 0 (0 = a single timed pass)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``python -m estimators.bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m estimators.bench",
        description=(
            "Networks per second for the NTK Gram matrix of a vanilla ReLU net: the factorised estimator "
            "(K_W(x,x') = s^2 <df/dy(x), df/dy(x')> <h(x), h(x')>) vs torch.func jacrev on the same nets. "
            "Weight drawing is excluded from the timings."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per method and line")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="auto picks CUDA when present")
    parser.add_argument("--width", type=_positive_int, default=500, help="hidden width n (default 500)")
    parser.add_argument("--depth", type=_positive_int, default=10, help="number L of ReLU layers (default 10)")
    parser.add_argument("--inputs", type=_positive_int, default=2, help="number k of inputs (default 2)")
    parser.add_argument("--input-dim", type=_positive_int, default=8, help="input dimension (default 8)")
    parser.add_argument(
        "--networks", type=_positive_int, default=DEFAULT_NETWORKS,
        help=f"networks timed by both methods (default {DEFAULT_NETWORKS})",
    )
    parser.add_argument(
        "--batch", type=_positive_int, default=DEFAULT_BATCH,
        help=f"networks per ntk_of_weights call of the factorised estimator (default {DEFAULT_BATCH})",
    )
    parser.add_argument("--dtype", choices=tuple(DTYPES), default="float64", help="default float64")
    parser.add_argument(
        "--seconds", type=_non_negative_seconds, default=3.0,
        help="minimum timed seconds per method; whole passes over all networks (default 3)",
    )
    parser.add_argument("--conv-channels", type=_positive_int, default=64, help="conv row: channels (default 64)")
    parser.add_argument("--conv-positions", type=_positive_int, default=16, help="conv row: positions (default 16)")
    parser.add_argument("--conv-depth", type=_positive_int, default=5, help="conv row: conv layers (default 5)")
    parser.add_argument("--conv-in-channels", type=_positive_int, default=4, help="conv row: input channels (4)")
    parser.add_argument(
        "--no-composed", action="store_true", help="leave out the composed-vanilla and conv rows"
    )
    parser.add_argument(
        "--end-to-end", action="store_true",
        help="instead: sample_ntk end to end (weight drawing timed), dense/exact x float32/float64, and the conv net",
    )
    parser.add_argument("--end-to-end-draws", type=_positive_int, default=48, help="draws per dense call (48)")
    parser.add_argument(
        "--end-to-end-exact-draws", type=_positive_int, default=4000, help="draws per exact call (4000)"
    )
    parser.add_argument(
        "--sampler-grid", action="store_true",
        help="instead: nets/s of sample_ntk with the dense vs the exact sampler over --grid-widths x --grid-inputs",
    )
    parser.add_argument("--grid-widths", type=_int_list, default=[100, 500, 2000], help="default 100,500,2000")
    parser.add_argument("--grid-inputs", type=_int_list, default=[1, 2, 8], help="default 1,2,8")
    parser.add_argument(
        "--fig3a-sweep", action="store_true",
        help="instead: time the Fig. 3a sweep (3 architectures, depths 1..--sweep-depths, --width, --dtype)",
    )
    parser.add_argument("--sweep-depths", type=_positive_int, default=50, help="largest depth (default 50)")
    parser.add_argument("--sweep-draws", type=_positive_int, default=5000, help="draws per point (default 5000)")
    parser.add_argument(
        "--sweep-sampler", choices=["stats", "exact"], default="stats",
        help="Gram-statistics (default) or low-rank sampler for the sweep",
    )
    parser.add_argument(
        "--independent-depths", action="store_true",
        help="sweep: draw every depth apart (default: vanilla/DenseNet depths share a forward pass)",
    )
    return parser


def _int_list(text: str) -> list[int]:
    """argparse type: comma-separated integers >= 1."""
    return [_positive_int(part) for part in text.split(",")]


# --- entry point ----------------------------------------------------------------------------------
def run_benchmark(args: argparse.Namespace, device: torch.device) -> tuple[list[dict[str, Any]], float]:
    """Draw the nets and inputs, time both methods, compare their Gram matrices. Returns (rows, tolerance)."""
    dtype = DTYPES[args.dtype]
    spec = VanillaNet(input_dim=args.input_dim, depth=args.depth, widths=args.width)
    weights = bench_weights(spec, args.networks, dtype, device)  # drawn once, not timed
    x = bench_inputs(args.inputs, args.input_dim, dtype, device)
    batch = min(args.batch, args.networks)
    first_batch = {name: w[:batch] for name, w in weights.items()}
    first_net = {name: w[0] for name, w in weights.items()}

    ours, theirs = time_methods(
        [
            Method(FACTORISED, lambda: factorised_gram(spec, weights, x, batch),
                    lambda: ntk_of_weights(spec, first_batch, x)),
            Method(JACREV, lambda: jacrev_gram(spec, weights, x), lambda: jacrev_ntk(spec, first_net, x)),
        ],
        args.networks, args.seconds, device,
    )
    diff = max_relative_difference(ours.gram, theirs.gram)
    common = {
        "device": str(device), "width": args.width, "depth": args.depth, "inputs": args.inputs,
        "dtype": args.dtype, "max_rel_diff": diff, "input_dim": args.input_dim, "networks": args.networks,
        "threads": torch.get_num_threads(), "weight_drawing_timed": False,
    }
    rows = []
    for timing, ratio, method_batch in (
        (ours, ours.nets_per_s / theirs.nets_per_s, batch), (theirs, 1.0, 1)
    ):
        rows.append({
            "name": timing.name, "nets_per_s": timing.nets_per_s, "ratio_vs_torch_func": ratio, **common,
            "batch": method_batch, "elapsed_s": timing.elapsed_s, "passes": timing.passes,
        })
    exact_rate, exact_seconds, exact_passes = time_exact_sampler(spec, x, args.networks, args.seconds)
    rows.append({
        "name": EXACT, "nets_per_s": exact_rate, "ratio_vs_torch_func": exact_rate / theirs.nets_per_s, **common,
        "weight_drawing_timed": True, "batch": args.networks, "elapsed_s": exact_seconds, "passes": exact_passes,
    })
    if not args.no_composed:
        rows += run_composed_rows(args, device)
    return rows, TOLERANCE[args.dtype]


def time_exact_sampler(spec: VanillaNet, x: torch.Tensor, n_networks: int, seconds: float) -> tuple[float, float, int]:
    """Nets/s of ``sample_ntk(sampler="exact")`` (estimators.lowrank), sampling included: it draws
    other networks of the same law (no weight matrix exists to share), so it has no max_rel_diff."""
    run = partial(sample_ntk, spec, x.cpu(), n_networks, 0, sampler="exact", device=x.device, dtype=x.dtype)
    run()  # warm-up
    elapsed, passes = 0.0, 0
    while elapsed < seconds or passes == 0:
        started = time.perf_counter()
        run()
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - started
        passes += 1
    return n_networks * passes / elapsed, elapsed, passes


def format_table(rows: list[dict[str, Any]], tolerance: float) -> str:
    """Human-readable report of ``run_benchmark`` rows."""
    head = rows[0]
    lines = [
        f"NTK Gram matrix benchmark: VanillaNet(input_dim={head['input_dim']}, depth={head['depth']}, "
        f"widths={head['width']}), {head['inputs']} inputs, {head['dtype']}, device {head['device']} "
        f"({head['threads']} torch threads), {head['networks']} networks",
        "factorised and torch_func_jacrev: the NTK computation only, on the same nets (weights drawn once beforehand);",
        "exact_lowrank: sample_ntk(sampler='exact') end to end, sampling included, on other nets of the same law.",
        "",
        f"{'method':<20}{'nets/s':>12}{'ratio vs torch.func':>22}{'batch':>8}{'passes':>8}{'seconds':>10}",
    ]
    for row in rows:
        passes = f"{row['passes']:>8d}{row['elapsed_s']:>10.2f}" if "passes" in row else f"{'':>18}"
        lines.append(
            f"{row['name']:<20}{row['nets_per_s']:>12.3f}{row['ratio_vs_torch_func']:>22.2f}{row['batch']:>8d}{passes}"
        )
    for row in rows:
        if "ratio_vs_hand_built" in row:
            lines.append(
                f"  {row['name']}: the same net written as layers (models.network.Network); "
                f"{row['ratio_vs_hand_built']:.3f} x the hand-built forward pass "
                f"({row['hand_built_nets_per_s']:.1f} nets/s)"
            )
        elif row["name"] == "conv":
            lines.append(
                f"  conv: 1-d conv net, {row['channels']} channels, {row['positions']} positions, "
                f"depth {row['depth']}, "
                f"kernel {row['kernel_size']}, vs torch.func {row['torch_func_nets_per_s']:.1f} nets/s"
            )
    verdict = "agree" if max(row["max_rel_diff"] for row in rows) <= tolerance else "DISAGREE"
    lines += [
        "",
        f"max relative difference of the Gram matrices (same nets, all rows): "
        f"{max(row['max_rel_diff'] for row in rows):.3e} "
        f"(tolerance {tolerance:.0e}: {verdict})",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 on success, 1 if the two methods' Gram matrices disagree; 2 on bad arguments."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        device = resolve_device(args.device)
    except ValueError as err:
        parser.error(str(err))
    if args.fig3a_sweep:
        sweep = run_sweep(
            args.sweep_depths, args.sweep_draws, args.width, DTYPES[args.dtype], device,
            args.sweep_sampler, not args.independent_depths,
        )  # fmt: skip
        text = format_sweep(sweep, args.sweep_depths, args.sweep_draws, args.width, args.dtype)
        print(json.dumps(sweep) if args.json else text)
        return 0
    if args.end_to_end:
        rows = run_end_to_end_rows(args, device)
        print("\n".join(json.dumps(row) for row in rows) if args.json else format_end_to_end(rows))
        return 0
    if args.sampler_grid:
        x_all = bench_inputs(max(args.grid_inputs), args.input_dim, torch.float64, torch.device("cpu"))
        grid = run_sampler_grid(
            args.grid_widths, args.grid_inputs, args.depth, args.input_dim, args.seconds, device, x_all
        )
        print("\n".join(json.dumps(row) for row in grid) if args.json else format_grid(grid))
        return 0
    rows, tolerance = run_benchmark(args, device)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(format_table(rows, tolerance))
    worst = max(row["max_rel_diff"] for row in rows)
    if worst > tolerance:
        print(
            f"error: factorised and torch.func Gram matrices differ (max relative difference "
            f"{worst:.3e} > {tolerance:.0e}); the timings compare different results",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
