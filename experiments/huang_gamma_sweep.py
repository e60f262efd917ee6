"""Huang et al. (NeurIPS 2020) Thm 5 on the analytic recursions: the gamma sweep of the ResNet limit
(THEOREMS.md B3) and the FFNet degeneration (B2), as tables of distance vs depth with measured rates.

    python -m experiments.huang_gamma_sweep [--budget quick|paper] --out DIR [--gammas 0.5,0.6,0.75,0.9,1]
        [--depths 10,100,1000,10000]

ResNet rows (alpha = L^-gamma, A and v fixed): N_L(t) = Theta_L(x_0, x_t) / Theta_L(x_0, x_0) on unit
inputs, x_0 = (1, 0); ``sup_distance`` = max over 12 angles t in [0.1, 2.2] of |N_L(t) - N_1(t)| (the
distance to ResNet-1, pointwise regime), ``antipodal_distance`` = |N_L(pi) - N_1(pi)| at x' = -x, and their
local rates between consecutive depths in units of L^(1 - 2 gamma) (d log D / d log L divided by 1 - 2 gamma:
1 = the pointwise rate, 1/2 = the antipodal one; undefined at gamma = 1/2, where the limit differs).
FFNet rows: ``distance_to_quarter`` = max_t |N_L(t) - 1/4| and ``spread`` = max_t N_L - min_t N_L over the
same angles plus pi, with local log-log slopes (B2: spread ~ 1/L, the distance to 1/4 ~ log L / L).
Budgets: quick = depths 10, 100, 1000 (about a second); paper = 10, 100, 1000, 10^4, 10^5 (about a minute).
Serial, unlike the minutes-long sweeps (``experiments.cells``): the paper budget takes about a minute (63 s
measured on a shared 2-core CPU), less than a cluster would save over its start-up and the longest gamma.
Writes DIR/huang_gamma_sweep.json, .csv and .png (log-log distance vs L); prints the tables.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from estimators.analytic import analytic_kernels, kernels_at_depths, unit_circle
from experiments.outputs import pyplot, write_data
from models.resnet import HuangFFNet, HuangResNet

BUDGETS = {"quick": (10, 100, 1000), "paper": (10, 100, 1000, 10_000, 100_000)}
NAME = "huang_gamma_sweep"
ANGLES = np.linspace(0.1, 2.2, 12)
DEFAULT_GAMMAS = (0.5, 0.6, 0.75, 0.9, 1.0)


def inputs() -> np.ndarray:
    """x_0 = (1, 0), the 12 pointwise angles, and x' = -x_0 exactly (last row)."""
    x = unit_circle(np.concatenate([[0.0], ANGLES, [math.pi]]))
    x[-1] = (-1.0, 0.0)
    return x


def local_rates(depths: tuple[int, ...], values: list[float], scale: float = 1.0) -> list[float | None]:
    """d log value / d log L between consecutive depths, divided by ``scale`` (None for the first)."""
    rates: list[float | None] = [None]
    for a, b, va, vb in zip(depths, depths[1:], values, values[1:], strict=False):
        rates.append(float(math.log(vb / va) / math.log(b / a) / scale) if va > 0 and vb > 0 else None)
    return rates


def resnet_rows(gamma: float, depths: tuple[int, ...]) -> list[dict]:
    """Distance to ResNet-1 vs depth for one gamma."""
    x = inputs()
    shallow = analytic_kernels(HuangResNet(2, 1, 1, gamma), x).normalised_ntk[0, 1:]
    rows = kernels_at_depths(HuangResNet(2, 1, 1, gamma), x, depths)
    gap = [np.abs(rows[L].normalised_ntk[0, 1:] - shallow) for L in depths]
    sup, antipodal = [float(g[:-1].max()) for g in gap], [float(g[-1]) for g in gap]
    scale = 1.0 - 2.0 * gamma
    sup_rate = local_rates(depths, sup, scale) if scale else [None] * len(depths)
    antipodal_rate = local_rates(depths, antipodal, scale) if scale else [None] * len(depths)
    return [{"architecture": "ResNet", "gamma": gamma, "depth": L, "eps": float(L) ** scale,
             "sup_distance": s, "sup_rate": sr, "antipodal_distance": a, "antipodal_rate": ar}
            for L, s, sr, a, ar in zip(depths, sup, sup_rate, antipodal, antipodal_rate, strict=True)]  # fmt: skip


def ffnet_rows(depths: tuple[int, ...]) -> list[dict]:
    """Distance of the normalised FFNet NTK to 1/4 and its spread over angles vs depth."""
    kernels = kernels_at_depths(HuangFFNet(2, 1, 1), inputs(), depths)
    rows = [kernels[L].normalised_ntk[0, 1:] for L in depths]
    distance, spread = [float(np.abs(r - 0.25).max()) for r in rows], [float(np.ptp(r)) for r in rows]
    return [{"architecture": "FFNet", "depth": L, "distance_to_quarter": d, "distance_slope": ds,
             "spread": s, "spread_slope": ss}
            for L, d, ds, s, ss in zip(depths, distance, local_rates(depths, distance), spread,
                                       local_rates(depths, spread), strict=True)]  # fmt: skip


def write(resnet: list[dict], ffnet: list[dict], out: Path, settings: dict) -> None:
    """DIR/NAME.json (both tables), .csv (ResNet table) and .png."""
    plt = pyplot()
    write_data(out, NAME, {"settings": settings, "resnet": resnet, "ffnet": ffnet}, resnet)
    figure, axis = plt.subplots(figsize=(6, 4))
    for gamma in dict.fromkeys(r["gamma"] for r in resnet):
        mine = [r for r in resnet if r["gamma"] == gamma]
        line = axis.plot([r["depth"] for r in mine], [r["sup_distance"] for r in mine], "-o", ms=3,
                         label=f"ResNet gamma={gamma:g}: sup_t |N_L - N_1|")[0]  # fmt: skip
        axis.plot([r["depth"] for r in mine], [r["antipodal_distance"] for r in mine], ":", color=line.get_color())
    axis.plot([r["depth"] for r in ffnet], [r["spread"] for r in ffnet], "k--", label="FFNet: spread of N_L")
    axis.set(xscale="log", yscale="log", xlabel="depth L", ylabel="distance (dotted: at x' = -x)")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--gammas", type=lambda s: tuple(float(g) for g in s.split(",")), default=DEFAULT_GAMMAS)
    parser.add_argument("--depths", type=lambda s: tuple(int(d) for d in s.split(",")), default=None)
    args = parser.parse_args(argv)
    depths = args.depths or BUDGETS[args.budget]
    if len(depths) < 2 or min(depths) < 2 or list(depths) != sorted(set(depths)):
        raise ValueError(f"--depths must be at least two increasing integers >= 2, got {depths}")
    if not args.gammas or not all(0.5 <= g <= 1.0 for g in args.gammas):
        raise ValueError(f"--gammas must lie in [0.5, 1], got {args.gammas}")
    started = time.perf_counter()
    resnet = [row for gamma in tqdm(args.gammas, desc=NAME) for row in resnet_rows(gamma, depths)]
    ffnet = ffnet_rows(depths)
    write(resnet, ffnet, args.out, {"budget": args.budget, "depths": list(depths), "gammas": list(args.gammas),
                                    "angles": ANGLES.tolist()})  # fmt: skip

    def show(value: float | None) -> str:
        return "    -" if value is None else f"{value:5.3f}"

    print("ResNet: sup_t |N_L - N_1| (rate / (1 - 2 gamma)) | at x' = -x (rate)")
    for r in resnet:
        print(f"  gamma={r['gamma']:<4g} L={r['depth']:>6}: {r['sup_distance']:.3e} ({show(r['sup_rate'])}) | "
              f"{r['antipodal_distance']:.3e} ({show(r['antipodal_rate'])})")  # fmt: skip
    print("FFNet: max_t |N_L - 1/4| (log-log slope) | spread (slope)")
    for r in ffnet:
        print(f"  L={r['depth']:>6}: {r['distance_to_quarter']:.3e} ({show(r['distance_slope'])}) | "
              f"{r['spread']:.3e} ({show(r['spread_slope'])})")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return resnet, ffnet


if __name__ == "__main__":
    main()
