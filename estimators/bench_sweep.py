"""Timing of a Fig. 3a-scale sweep (Littwin et al. 2021, Sec. 6.1) with ``sample_ntk``.

``python -m estimators.bench --fig3a-sweep [--sweep-depths 50] [--sweep-draws 5000] [--width 500]
[--dtype float64|float32] [--sweep-sampler stats|exact] [--independent-depths]``

For each architecture — vanilla, ResNet (branch depth m = 2, alpha_l = 0.1 / L) and DenseNet
(alpha = 0.5) — and each number of layers L = 1..``--sweep-depths``, draw ``--sweep-draws``
networks of width n on x = x^/||x^||, x' = x^'/||x^'||, x^ ~ N(+0.5, 1)^n, x^' ~ N(-0.5, 1)^n
(input dimension n), and compute the normalised variances V = Var(K) / E[K]^2 of the diagonal
K(x, x) and the off-diagonal K(x, x'). Prints seconds per architecture, the total, and V at a few
depths (the curves themselves are ``experiments``' business). Sampling included.

``stats`` (default): the Gram-statistics sampler (``estimators.gram_stats``); vanilla nets and
DenseNets take every depth from one forward pass per network (``sample_ntk_depths``), ResNets (whose
alpha_l = 0.1 / L changes every layer with L) run all depths together sharing each block's hidden
draws (``resnet_depth_sweep_stats``): each depth exact in law, depths dependent. With
``--independent-depths`` every depth is drawn apart. ``exact``: the low-rank sampler, depth by depth.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from estimators.gram_stats import BlockRandom, first_rows, resnet_depth_sweep_stats
from estimators.ntk import STATS_SAMPLER, ChunkDraw, draw_in_chunks, sample_ntk, sample_ntk_depths
from estimators.sampling import BLOCK
from models.base import ArchitectureSpec
from models.densenet import DenseNet
from models.resnet import LittwinResNet
from models.vanilla import VanillaNet

INPUT_SEED = 3
BRANCH_DEPTH = 2

ARCHITECTURES: dict[str, Callable[[int, int], ArchitectureSpec]] = {
    "vanilla": lambda depth, n: VanillaNet(input_dim=n, depth=depth, widths=n),
    "resnet": lambda depth, n: LittwinResNet(n, depth, BRANCH_DEPTH, n, (0.1 / depth,) * depth),
    "densenet": lambda depth, n: DenseNet(input_dim=n, depth=depth, width=n, alpha=0.5),
}


def fig3a_inputs(width: int) -> torch.Tensor:
    """x, x' (2, width): normalised N(+0.5, 1) and N(-0.5, 1) vectors (fixed seed)."""
    generator = torch.Generator().manual_seed(INPUT_SEED)
    raw = torch.randn((2, width), generator=generator, dtype=torch.float64) + torch.tensor([[0.5], [-0.5]])
    return raw / raw.norm(dim=1, keepdim=True)


def normalised_variance(values: torch.Tensor) -> float:
    """V = Var / mean^2 of a 1-d sample (float64)."""
    values = values.to(torch.float64)
    return float(values.var() / values.mean() ** 2)


SWEEP_SAMPLERS = (STATS_SAMPLER, "exact")


def sweep_grams(
    name: str, max_depth: int, n_draws: int, width: int, dtype: torch.dtype, device: torch.device,
    sampler: str, share_forward: bool,
) -> list[torch.Tensor]:  # fmt: skip
    """NTK Grams (n_draws, 2, 2) of architecture ``name`` at depths 1..max_depth (seed = depth, or
    one seed for a shared forward pass)."""
    build, x = ARCHITECTURES[name], fig3a_inputs(width)
    if sampler == STATS_SAMPLER and share_forward and name == "resnet":
        return resnet_sweep_grams(max_depth, n_draws, width, dtype, device)
    if sampler == STATS_SAMPLER and share_forward:
        spec = build(max_depth, width)
        depths = range(1, max_depth + 1)
        draws = sample_ntk_depths(spec, x, n_draws, max_depth, depths, device=device, dtype=dtype, per_matrix=False)  # type: ignore[arg-type]
        return [draws[depth].gram for depth in depths]
    return [
        sample_ntk(build(depth, width), x, n_draws, depth, sampler=sampler, device=device, dtype=dtype).gram
        for depth in range(1, max_depth + 1)
    ]


def resnet_sweep_grams(
    max_depth: int, n_draws: int, width: int, dtype: torch.dtype, device: torch.device
) -> list[torch.Tensor]:
    """NTK Grams (n_draws, 2, 2) of the sweep's ResNets at depths 1..max_depth, all depths per network
    batch at once (``resnet_depth_sweep_stats``; seed = max_depth)."""
    depths = list(range(1, max_depth + 1))
    alphas = [0.1 / depth for depth in depths]

    def compute(spec: ArchitectureSpec, draw: ChunkDraw, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        rand = BlockRandom(draw.seed, draw.first_block, draw.n_blocks, x.dtype, x.device)
        _, ntk = resnet_depth_sweep_stats(width, width, alphas, depths, x, rand)
        return first_rows((ntk,), draw.n_blocks * BLOCK)

    (ntk,) = draw_in_chunks(
        ARCHITECTURES["resnet"](max_depth, width), fig3a_inputs(width), n_draws, max_depth, compute,
        sampler=STATS_SAMPLER, device=device, dtype=dtype, chunk_bytes=256 * 2**20, owner="resnet_sweep_grams",
        samplers=(STATS_SAMPLER,),
    )  # fmt: skip
    return [ntk[:, i] for i in range(max_depth)]


def run_sweep(
    max_depth: int, n_draws: int, width: int, dtype: torch.dtype, device: torch.device,
    sampler: str = STATS_SAMPLER, share_forward: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """{architecture: {"seconds", "v_diagonal", "v_off_diagonal"}} plus "total_seconds" and the options."""
    if sampler not in SWEEP_SAMPLERS:
        raise ValueError(f"sweep sampler must be one of {list(SWEEP_SAMPLERS)}, got {sampler!r}")
    result: dict[str, Any] = {"sampler": sampler, "shared_forward": share_forward and sampler == STATS_SAMPLER}
    started_all = time.perf_counter()
    for name in ARCHITECTURES:
        started = time.perf_counter()
        grams = sweep_grams(name, max_depth, n_draws, width, dtype, device, sampler, share_forward)
        result[name] = {
            "seconds": time.perf_counter() - started,
            "v_diagonal": [normalised_variance(gram[:, 0, 0]) for gram in grams],
            "v_off_diagonal": [normalised_variance(gram[:, 0, 1]) for gram in grams],
        }
    result["total_seconds"] = time.perf_counter() - started_all
    return result


def format_sweep(result: dict[str, Any], max_depth: int, n_draws: int, width: int, dtype: str) -> str:
    """Table of seconds and V at a few depths."""
    shown = sorted({1, min(10, max_depth), min(25, max_depth), max_depth})
    shared = " (all depths of a network batch drawn together)" if result["shared_forward"] else ""
    lines = [
        f"Fig. 3a-scale sweep: depths 1..{max_depth}, n = {width}, {n_draws} draws per point, {dtype}, "
        f"sampler {result['sampler']}{shared}, "
        f"{torch.get_num_threads()} torch threads",
        f"{'architecture':<12}{'seconds':>10}  " + "  ".join(f"V_diag(L={d}) / V_off" for d in shown),
    ]
    for name in ARCHITECTURES:
        row = result[name]
        cells = "  ".join(f"{row['v_diagonal'][d - 1]:>9.3f} / {row['v_off_diagonal'][d - 1]:<6.3f}" for d in shown)
        lines.append(f"{name:<12}{row['seconds']:>10.1f}  {cells}")
    lines.append(f"total {result['total_seconds']:.1f} s")
    return "\n".join(lines)
