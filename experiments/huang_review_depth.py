"""Huang et al. (NeurIPS 2020), Review 1 ("study whether [batchnorms] alter the predictions of the theorems";
"ResNets typically use convolutional layers"): the normalised NTK of finite networks over input pairs vs
depth, for BatchNorm and 1-d circular-convolution FFNets and ResNets, with the plain (Huang) FFNet and
ResNet for contrast. The claims ``theorems/huang_review_batchnorm_degenerates.py``,
``huang_review_batchnorm_resnet1.py`` and ``huang_review_conv_degenerates.py`` decide two depths each; this
script draws the whole curve.

    python -m experiments.huang_review_depth [--budget quick|paper] --out DIR [--depths 1,2,4,8,16]
        [--draws N] [--width m] [--gamma g] [--seed S] [--scheduler tcp://HOST:PORT | --jobs N]

Families (A and v fixed, W_l and V_l trained; ResNets alpha = L^-gamma, gamma = 1 by default):
``FFNet`` / ``ResNet`` (``models.resnet.HuangFFNet`` / ``HuangResNet``), ``BatchNorm FFNet`` / ``BatchNorm
ResNet`` (``models.presets_review``: train-mode BatchNorm over the k inputs after W_l), ``conv FFNet`` / ``conv
ResNet`` (3-tap circular convolutions, 8 positions x 2 channels, global average pooling; width = channels).
Inputs: dense families, k = 8 unit inputs (cos t_i e_1 + sin t_i e_2 + s e_{i+2}) / sqrt(1 + s^2) in R^10,
t_i = i pi / 7, s = 1/2 (``models.strategies_review.nugget_circle_inputs``: the private direction keeps
the BatchNorm batch of full rank); conv families, k = 4 signals cos t_i u + sin t_i w, t_i = i pi / 3,
u _|_ w seeded unit signals (as ``conv_cases``).
Measured per (family, depth L), from ``draws`` networks (float64; dense sampler where BatchNorm or
convolutions couple the inputs, exact otherwise; ``theorems.huang_review_batchnorm_degenerates
.normalised_draws``): each network's N_ij = K(x_i, x_j) / sqrt(K(x_i, x_i) K(x_j, x_j)) over the pairs
i < j; their mean over draws, Nbar_ij; the spread D_L = SD over pairs of Nbar_ij (``spread``), the ratio
D_L / D_1 (the claims' statistic), the mean of Nbar_ij, and the RMS over pairs of Nbar_ij(L) - Nbar_ij(1),
the distance to the depth-1 kernel (ResNet-1 for the ResNets, alpha = 1; ``rms_distance``). Intervals:
95%, +-1.96 bootstrap standard errors (``engine.moments.bootstrap_statistic``, draws resampled within each
depth). Monte Carlo noise biases D_L and the distance upward: ``noise_floor`` = sqrt(mean over pairs of
Var(N_ij) / draws) is the spread that noise alone gives, so a D_L near it is not resolved.
Each (family, depth)'s draws are one Dask task (``experiments.cells``: a LocalCluster on every core by
default, ``--jobs 1`` in this process, or ``--scheduler``), deepest first, seeded per family and depth as in
the serial loop it replaces; the bootstraps run here, on the returned draws: the same numbers on any cluster.
Budgets: quick = width 32, 8 draws, depths 1, 2, 4 (seconds); paper = width 128, 200 draws, depths
1, 2, 4, 8, 16, 32, 64 (minutes). Writes DIR/huang_review_depth.json (settings + rows), .csv and .png (two
log-log panels: spread vs depth and the distance to depth 1 vs depth, one line per family); prints the
table and the wall time.
Measured (paper budget, seed 0; 128 s on a shared 2-core CPU, 1 torch thread), L = 1, 2, 4, ..., 64:
- FFNet: D_L = 0.271, 0.204, 0.131, 0.075, 0.040, 0.020, 0.014 (~1/L past L = 4; noise floor 0.015 at
  L = 64), the pairs' values gathering (mean 0.18 -> 0.35); distance to depth 1 up to 0.31.
- ResNet: D_L = 0.254-0.265 at every depth (D_64 / D_1 = 1.007 [1.000, 1.014]); distance to ResNet-1
  0.011 at L = 2, 0.0046 at L = 64 (noise floor 0.003): it is ResNet-1's kernel.
- BatchNorm FFNet: D_L = 0.167, 0.065, 0.018, 0.011 at L = 1, 2, 4, 8 (D_4 / D_1 = 0.106 [0.091, 0.122],
  the claim's <= 1/4); past L = 8 the measured 0.015, 0.023, 0.039 equal the noise floor (0.016, 0.023,
  0.030: each network's N fluctuates more with depth, the mean has no resolved spread left); every pair
  near -0.11, toward -1/(k - 1) = -0.14. BatchNorm makes the FFNet degenerate faster, not slower.
- BatchNorm ResNet: D_L dips from 0.172 to 0.084 at L = 4 (D_4 / D_1 = 0.491 [0.477, 0.505]) and climbs
  back to 0.153 at L = 64; its distance to ResNet-1, 0.085, 0.121, 0.113, 0.084, 0.055, 0.033 at
  L = 2..64 (d_64 / d_16 = 0.39), first grows then shrinks: it approaches ResNet-1, slowly (the claim's
  trunk-drift argument: only once L >> d = 10). It does not degenerate.
- conv FFNet: D_L = 0.152, 0.076, 0.035, 0.016, 0.0063 at L = 1..16 (~1/L, D_8 / D_1 = 0.104 [0.095,
  0.112]), then at the noise floor (0.0039, 0.0028); every pair near 0.7. Degenerates like the dense FFNet.
- conv ResNet: D_L = 0.081-0.085 at every depth (D_8 / D_1 = 0.99 [0.97, 1.01]), distance to ResNet-1
  <= 0.0075 (noise floor 0.002). Does not degenerate.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.budget import MonteCarlo
from engine.moments import bootstrap_statistic
from estimators.sampling import derive_seed
from experiments.cells import add_cluster_arguments, map_cells
from experiments.outputs import pyplot, write_data
from models.resnet import HuangFFNet, HuangResNet
from models.strategies_review import DepthSweepCase, nugget_circle_inputs
from theorems.huang_review_batchnorm_degenerates import normalised_draws, spread
from theorems.huang_review_batchnorm_resnet1 import rms_distance

NAME = "huang_review_depth"
BUDGETS = {
    "quick": {"width": 32, "draws": 8, "depths": (1, 2, 4)},
    "paper": {"width": 128, "draws": 200, "depths": (1, 2, 4, 8, 16, 32, 64)},
}
DENSE_ANGLES = tuple(i * math.pi / 7 for i in range(8))
NUGGET = 0.5
CONV_SHAPE = (8, 2)  # positions, channels
CONV_ANGLES = tuple(i * math.pi / 3 for i in range(4))
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class PlainCase:
    """Huang's FFNet or ResNet (no BatchNorm) with ``DepthSweepCase``'s interface (``spec(depth)``, ``inputs``)."""

    family: str
    width: int
    inputs: tuple[tuple[float, ...], ...]
    gamma: float = 1.0

    def spec(self, depth: int) -> HuangFFNet | HuangResNet:
        dim = len(self.inputs[0])
        if self.family == "resnet":
            return HuangResNet(dim, depth, self.width, self.gamma)
        return HuangFFNet(dim, depth, self.width)


def conv_inputs(seed: int) -> tuple[tuple[float, ...], ...]:
    """k = 4 signals cos t_i u + sin t_i w (flattened positions x channels), u _|_ w seeded unit signals."""
    u, v = np.random.default_rng(seed).standard_normal((2, CONV_SHAPE[0] * CONV_SHAPE[1]))
    u /= np.linalg.norm(u)
    w = v - (u @ v) * u
    w /= np.linalg.norm(w)
    return tuple(tuple(float(c) for c in math.cos(t) * u + math.sin(t) * w) for t in CONV_ANGLES)


def cases(width: int, depths: tuple[int, ...], gamma: float, seed: int) -> dict[str, PlainCase | DepthSweepCase]:
    """The six families at ``width`` (dense ones on the nugget-circle inputs, conv ones on the conv signals)."""
    dense = nugget_circle_inputs(DENSE_ANGLES, NUGGET)
    conv = conv_inputs(derive_seed(seed, NAME, "conv-inputs"))
    sweep, dim = depths, (len(dense[0]),)
    return {
        "FFNet": PlainCase("ffnet", width, dense),
        "ResNet": PlainCase("resnet", width, dense, gamma),
        "BatchNorm FFNet": DepthSweepCase("batchnorm-ffnet", width, sweep, dense, dim),
        "BatchNorm ResNet": DepthSweepCase("batchnorm-resnet", width, sweep, dense, dim, gamma),
        "conv FFNet": DepthSweepCase("conv-ffnet", width, sweep, conv, CONV_SHAPE),
        "conv ResNet": DepthSweepCase("conv-resnet", width, sweep, conv, CONV_SHAPE, gamma),
    }


@dataclass(frozen=True)
class DrawsCell:
    """One Dask task: the normalised NTK draws of one family at one depth."""

    case: PlainCase | DepthSweepCase
    depth: int
    mc: MonteCarlo


def draws_cell(cell: DrawsCell) -> np.ndarray:
    """(draws, pairs): ``normalised_draws`` of the cell's family at its depth (seeded per depth)."""
    return normalised_draws(cell.case, cell.depth, cell.mc)  # type: ignore[arg-type]


def family_rows(label: str, found: dict[int, np.ndarray], depths: tuple[int, ...], mc: MonteCarlo) -> list[dict]:
    """One row per depth from ``found`` (depth -> ``normalised_draws``): spread, D_L / D_1, mean and the
    distance to depth 1, each with a bootstrap SE."""
    first = found[1]
    rows = []
    for depth in depths:
        draws = found[depth]
        seed = derive_seed(mc.seed, "bootstrap", depth)
        d = bootstrap_statistic([draws], spread, seed, "spread")
        row = {"family": label, "depth": depth, "draws": draws.shape[0], "pairs": draws.shape[1],
               "mean_normalised_ntk": float(draws.mean()), "spread": float(d.estimate[0]),
               "spread_se": float(d.standard_error[0]),
               "noise_floor": float(np.sqrt(draws.var(axis=0, ddof=1).mean() / draws.shape[0]))}  # fmt: skip
        if depth == 1:
            row.update(spread_ratio=1.0, spread_ratio_se=0.0, distance_to_depth1=0.0, distance_to_depth1_se=0.0)
        else:
            ratio = bootstrap_statistic([first, draws], lambda a, b: spread(b) / spread(a), seed, "ratio")
            distance = bootstrap_statistic([first, draws], rms_distance, seed, "distance")
            row.update(spread_ratio=float(ratio.estimate[0]), spread_ratio_se=float(ratio.standard_error[0]),
                       distance_to_depth1=float(distance.estimate[0]),
                       distance_to_depth1_se=float(distance.standard_error[0]))  # fmt: skip
        rows.append(row)
    return rows


def write(rows: list[dict], out: Path, settings: dict) -> None:
    """DIR/NAME.json, .csv and the two-panel log-log plot DIR/NAME.png."""
    plt = pyplot()
    write_data(out, NAME, {"settings": settings, "rows": rows}, rows)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = (("spread", "spread of the normalised NTK over pairs, D_L"),
              ("distance_to_depth1", "RMS distance to the depth-1 normalised NTK"))  # fmt: skip
    for axis, (key, ylabel) in zip(axes, panels, strict=True):
        for label in dict.fromkeys(r["family"] for r in rows):
            mine = [r for r in rows if r["family"] == label and r[key] > 0]
            style = "-o" if "ResNet" in label else "--s"
            error = [Z_95 * r[f"{key}_se"] for r in mine]
            line = axis.errorbar([r["depth"] for r in mine], [r[key] for r in mine], yerr=error, fmt=style, ms=3,
                                 capsize=2, label=label)  # fmt: skip
            if key == "spread":
                noise = [r for r in rows if r["family"] == label]
                axis.plot([r["depth"] for r in noise], [r["noise_floor"] for r in noise], ":", lw=0.8,
                          color=line[0].get_color())  # fmt: skip
        axis.set(xscale="log", yscale="log", xlabel="depth L", ylabel=ylabel)
        axis.set_xticks(settings["depths"], [str(d) for d in settings["depths"]])
        axis.xaxis.set_minor_locator(plt.NullLocator())
        axis.legend(fontsize=7)
    depths = np.array(sorted({r["depth"] for r in rows}), float)
    anchor = max(r["spread"] for r in rows if r["depth"] == depths[0])
    axes[0].plot(depths, anchor / depths, "k:", lw=0.8, label="1/L")
    axes[0].legend(fontsize=7)
    axes[0].set_title(
        f"width {settings['width']}, {settings['draws']} draws, 95% bootstrap intervals; dotted: noise floor",
        fontsize=9,
    )
    axes[1].set_title("ResNets: distance to ResNet-1 (alpha = 1); FFNets: to their depth 1", fontsize=9)
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--depths", type=lambda s: tuple(int(d) for d in s.split(",")), default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--gamma", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("width", "draws", "depths"):
        if getattr(args, name) is None:
            setattr(args, name, BUDGETS[args.budget][name])
    if args.depths[0] != 1 or len(args.depths) < 2 or list(args.depths) != sorted(set(args.depths)):
        raise ValueError(f"--depths must be increasing integers starting at 1 (the reference), got {args.depths}")
    if args.draws < 3 or args.width < 1:
        raise ValueError(f"need --draws >= 3 (bootstrap) and --width >= 1, got {args.draws}, {args.width}")
    if not 0.0 <= args.gamma <= 2.0:
        raise ValueError(f"--gamma must lie in [0, 2] (alpha = L^-gamma), got {args.gamma}")
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse(argv)
    started = time.perf_counter()
    families = {label: (case, MonteCarlo(args.draws, derive_seed(args.seed, NAME, label)))
                for label, case in cases(args.width, args.depths, args.gamma, args.seed).items()}  # fmt: skip
    cells = [DrawsCell(case, depth, mc) for case, mc in families.values() for depth in args.depths]
    done = iter(map_cells(draws_cell, cells, args.scheduler, args.jobs, desc=NAME, cost=lambda c: c.depth))
    rows = []
    for label, (_, mc) in families.items():
        rows += family_rows(label, {depth: next(done) for depth in args.depths}, args.depths, mc)
    settings = {"budget": args.budget, "width": args.width, "draws": args.draws, "depths": list(args.depths),
                "gamma": args.gamma, "seed": args.seed, "dense_angles": list(DENSE_ANGLES), "nugget": NUGGET,
                "conv_shape": list(CONV_SHAPE), "conv_angles": list(CONV_ANGLES),
                "interval": "95%, bootstrap SE"}  # fmt: skip
    write(rows, args.out, settings)

    def show(value: float, se: float) -> str:
        return f"{value:.4f} [{value - Z_95 * se:.4f}, {value + Z_95 * se:.4f}]"

    print(f"{'family':>16s}  {'L':>3s}  {'mean N':>7s}  {'spread D_L [95%]':>26s}  {'D_L / D_1 [95%]':>26s}  "
          f"{'distance to depth 1 [95%]':>26s}  {'noise':>6s}")  # fmt: skip
    for r in rows:
        print(f"{r['family']:>16s}  {r['depth']:>3d}  {r['mean_normalised_ntk']:7.3f}  "
              f"{show(r['spread'], r['spread_se']):>26s}  {show(r['spread_ratio'], r['spread_ratio_se']):>26s}  "
              f"{show(r['distance_to_depth1'], r['distance_to_depth1_se']):>26s}  {r['noise_floor']:6.4f}")  # fmt: skip
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows


if __name__ == "__main__":
    main()
