"""Littwin et al.'s Eq. 4 constant C against Hanin & Nica's exp(5 beta): is the gap finite-size, parameterisation,
or the prefactor that Hanin & Nica's "~=" leaves out?

    python -m experiments.hanin_nica_constant [--budget quick|paper] --out DIR [--widths 16,32,64] [--draws N]
        [--seed S] [--device auto|cpu|cuda] [--scheduler tcp://HOST:PORT | --jobs N]

Two settings, one input each: ``littwin`` = Eq. 4's vanilla net (``VanillaNet``, input dim 8, unit x, every
weight matrix in K, no biases: the net of ``littwin2021.eq4.*``); ``hanin-nica`` = Hanin & Nica's
(``models.strategies_hanin_nica``: n_0 = 8, ||x||^2 / n_0 = 1, weights and zero-init biases in K). For every
width n and beta = L / n in the budget's ratios (L = round(beta n) ReLU layers, distinct L), log eta =
log E[K^2] / E[K]^2 with its delta-method SE (exact sampler, float64), and the pair-counting model's value at
the same (n, L) (theorems/hanin_nica_setting.py). Per setting and width: C(n) = the beta-coefficient of a WLS
quadratic log eta = a + C beta + kappa beta^2 (the slope at beta -> 0), and C_line(n) = the slope of a WLS line
(Eq. 4's fitted reading). Then C(n) = C_inf + c / n by WLS over widths: C_inf with its 95% t interval, against
the model's first-order C_0 (11/3 for Littwin's net; (11 r^2 + 11 r + 5) / (3 (r + 1)^2) = 2.25 for Hanin &
Nica's at r = 1) and against 5. Last, the model's local slope d log eta / d beta in the limit n -> infinity at
beta = 0 .. 8: it rises from C_0 toward 5, Hanin & Nica's exponent.
Budgets: quick = widths 16, 24, 32, beta = 1/16..1/4, 300 draws (seconds; a smoke test); paper = widths 16,
24, 32, 48, 64, 96, beta = 1/32, 1/16, 3/32, 1/8, 3/16, 1/4, 40,000 draws. Writes DIR/hanin_nica_constant.json
(settings, rows, fits, model slopes), .csv (rows) and .png (C(n) against 1/n with the extrapolation; the
model's local slope against beta).
Each (setting, n, L) is one Dask task (``experiments.cells``: a LocalCluster on every core by default, ``--jobs
1`` in this process, or ``--scheduler``), seeded by (seed, setting, n, L) as in the serial loop it replaces:
the same numbers on any cluster.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from scipy.stats import t as student_t

from engine import MonteCarlo
from engine.intervals import Estimates
from engine.moments import log_eta, weighted_fit
from estimators import sample_ntk
from estimators.sampling import derive_seed
from experiments.cells import add_cluster_arguments, map_cells
from experiments.outputs import pyplot, write_data
from models.strategies_hanin_nica import hanin_nica_net
from models.vanilla import VanillaNet
from theorems.hanin_nica_setting import first_order_constant, hanin_nica_kernel, pair_model_limit, pair_model_log_eta

NAME = "hanin_nica_constant"
INPUT_DIM = 8
BUDGETS = {"quick": {"widths": (16, 24, 32), "draws": 300, "ratios": (1 / 16, 1 / 8, 3 / 16, 1 / 4)},
           "paper": {"widths": (16, 24, 32, 48, 64, 96), "draws": 40_000,
                     "ratios": (1 / 32, 1 / 16, 3 / 32, 1 / 8, 3 / 16, 1 / 4)}}
MODEL_BETAS = (0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
SETTINGS = ("littwin", "hanin-nica")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--widths", type=lambda s: tuple(int(w) for w in s.split(",")), default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("widths", "draws"):
        if getattr(args, name) is None:
            setattr(args, name, BUDGETS[args.budget][name])
    if args.draws < 3 or len(args.widths) < 3 or min(args.widths) < 16:
        raise ValueError(f"--draws >= 3 and >= 3 widths >= 16 (4 distinct depths) needed: {args.draws}, {args.widths}")
    return args


@dataclasses.dataclass(frozen=True)
class NetCell:
    """One Dask task: the draws of one net, ``setting`` at width n and depth L."""

    setting: str
    width: int
    depth: int
    draws: int
    seed: int
    device: str


def kernel_draws(cell: NetCell) -> np.ndarray:
    """(B,) draws of K(x, x) for the cell's net."""
    seed = derive_seed(cell.seed, NAME, cell.setting, cell.width, cell.depth)
    if cell.setting == "littwin":
        x = np.zeros((1, INPUT_DIM))
        x[0, 0] = 1.0
        draws = sample_ntk(VanillaNet(INPUT_DIM, cell.depth, cell.width), x, cell.draws, seed, device=cell.device)
        return draws.gram[:, 0, 0].numpy()
    x = np.ones((1, INPUT_DIM))  # ||x||^2 / n_0 = 1
    net = hanin_nica_net(INPUT_DIM, (cell.width,) * cell.depth)
    return hanin_nica_kernel(net, x, MonteCarlo(cell.draws, seed, cell.device))


def net_cell(cell: NetCell) -> dict:
    """log eta of one net with its delta-method SE, and the pair-counting model's value there."""
    estimate = log_eta(kernel_draws(cell))
    return {"setting": cell.setting, "width": cell.width, "depth": cell.depth, "beta": cell.depth / cell.width,
            "log_eta": float(estimate.estimate[0]), "se": float(estimate.standard_error[0]),
            "model_log_eta": model_value(cell.setting, cell.width, cell.depth), "draws": cell.draws}  # fmt: skip


def model_value(setting: str, width: int, depth: int) -> float:
    """The pair-counting model's log eta at this (n, L): L masks; Littwin's vanilla net (L + 2 matrices, no
    biases) has two matrices reading the last ReLU layer (W^L, then W^out after a linear layer)."""
    if setting == "littwin":
        return pair_model_log_eta((width,) * depth, 1.0, biases=False, readouts=2)
    return pair_model_log_eta((width,) * depth, 1.0, biases=True)


def fit_constant(rows: list[dict]) -> dict:
    """C (quadratic WLS, coefficient of beta), kappa, and C_line (linear WLS slope) for one (setting, width)."""
    beta = np.array([r["beta"] for r in rows])
    points = Estimates(np.array([r["log_eta"] for r in rows]), np.array([r["se"] for r in rows]), np.inf,
                       tuple(f"L={r['depth']}" for r in rows), sum(r["draws"] for r in rows))
    quadratic, line = weighted_fit(beta, points, degree=2), weighted_fit(beta, points, degree=1)
    return {"C": quadratic.estimate[1], "C_se": quadratic.standard_error[1], "kappa": quadratic.estimate[2],
            "kappa_se": quadratic.standard_error[2], "intercept": quadratic.estimate[0],
            "C_line": line.estimate[1], "C_line_se": line.standard_error[1]}


def extrapolate(fits: list[dict]) -> dict:
    """C(n) = C_inf + c / n by WLS over widths; C_inf with its 95% interval (t with the fit's dof, or normal)."""
    inverse = np.array([1.0 / f["width"] for f in fits])
    points = Estimates(np.array([f["C"] for f in fits]), np.array([f["C_se"] for f in fits]), np.inf,
                       tuple(f"n={f['width']}" for f in fits), 1)
    fit = weighted_fit(inverse, points, degree=1, labels=("C_inf", "c"))
    half = float(student_t.ppf(0.975, fit.dof[0])) * fit.standard_error[0]
    return {"C_inf": fit.estimate[0], "C_inf_se": fit.standard_error[0], "C_inf_ci": [fit.estimate[0] - half,
            fit.estimate[0] + half], "c_over_n": fit.estimate[1], "c_over_n_se": fit.standard_error[1],
            "dof": fit.dof[0]}


def model_slopes(setting: str) -> list[dict]:
    """The model's local slope d log eta / d beta in the limit n -> infinity (central differences)."""
    ratio = None if setting == "littwin" else 1.0
    out = []
    for b in MODEL_BETAS:
        step = 1e-3
        slope = first_order_constant(ratio) if b == 0 else (
            pair_model_limit(b + step, ratio) - pair_model_limit(b - step, ratio)) / (2 * step)
        out.append({"setting": setting, "beta": b, "log_eta": pair_model_limit(b, ratio) if b else 0.0,
                    "local_slope": slope, "log_eta_minus_5beta": (pair_model_limit(b, ratio) if b else 0.0) - 5 * b})
    return out


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    started, ratios = time.perf_counter(), BUDGETS[args.budget]["ratios"]
    cells = [NetCell(s, n, L, args.draws, args.seed, args.device)
             for s in SETTINGS for n in args.widths for L in sorted({max(1, round(t * n)) for t in ratios})]
    rows = map_cells(net_cell, cells, args.scheduler, args.jobs, desc=NAME, cost=lambda c: c.depth * c.width**2)
    fits, extrapolations, slopes = [], {}, []
    for setting in SETTINGS:
        per_width = []
        for width in args.widths:
            chosen = [r for r in rows if r["setting"] == setting and r["width"] == width]
            per_width.append({"setting": setting, "width": width, **fit_constant(chosen)})
        fits += per_width
        extrapolations[setting] = {**extrapolate(per_width),
                                   "C_0_model": first_order_constant(None if setting == "littwin" else 1.0)}
        slopes += model_slopes(setting)
    settings = {"budget": args.budget, "widths": list(args.widths), "ratios": list(ratios), "draws": args.draws,
                "seed": args.seed, "input_dim": INPUT_DIM, "hanin_nica_ratio": 1.0}
    payload = {"settings": settings, "rows": rows, "fits": fits, "extrapolation": extrapolations,
               "model_slopes": slopes}
    write_data(args.out, NAME, payload, rows)
    plot(fits, extrapolations, slopes, args.out)
    for setting, e in extrapolations.items():
        low, high = e["C_inf_ci"]
        print(f"{setting}: C_inf = {e['C_inf']:.3f} [{low:.3f}, {high:.3f}] (model C_0 = {e['C_0_model']:.3f}; "
              f"5 is {'outside' if not low <= 5 <= high else 'inside'})")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return payload


def plot(fits: list[dict], extrapolations: dict, slopes: list[dict], out: Path) -> None:
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for index, setting in enumerate(SETTINGS):
        colour = f"C{index}"
        chosen = [f for f in fits if f["setting"] == setting]
        inverse = np.array([1.0 / f["width"] for f in chosen])
        left.errorbar(inverse, [f["C"] for f in chosen], yerr=[1.96 * f["C_se"] for f in chosen], fmt="o",
                      color=colour, label=f"{setting}: C(n), quadratic fit")
        e = extrapolations[setting]
        grid = np.linspace(0, inverse.max() * 1.05, 50)
        left.plot(grid, e["C_inf"] + e["c_over_n"] * grid, color=colour, lw=1)
        left.errorbar([0], [e["C_inf"]], yerr=[[e["C_inf"] - e["C_inf_ci"][0]], [e["C_inf_ci"][1] - e["C_inf"]]],
                      fmt="s", color=colour, capsize=4)
        left.axhline(e["C_0_model"], color=colour, ls=":", lw=1)
        chosen_slopes = [s for s in slopes if s["setting"] == setting]
        right.plot([s["beta"] for s in chosen_slopes], [s["local_slope"] for s in chosen_slopes], "o-", color=colour,
                   label=f"{setting}: model, n -> inf")
    for axis in (left, right):
        axis.axhline(5.0, color="k", ls="--", lw=1, label="Hanin & Nica: 5")
        axis.legend(fontsize=7)
    left.set(xlabel="1 / n", ylabel="C = d log eta / d beta at beta -> 0", title="Eq. 4's C vs width")
    right.set(xlabel="beta = L / n", ylabel="local slope d log eta / d beta", ylim=(2, 5.2),
              title="pair-counting model: slope rises toward 5")
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
