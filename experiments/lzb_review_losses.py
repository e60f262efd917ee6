"""Liu, Zhu & Belkin (NeurIPS 2020), Reviews 2-3 ("the paper mostly focuses on squared loss while widely applied
NNs use softmax-cross entropy"; the hinge loss's "second derivative is zero almost everywhere") and Review 2's
request to check Thm 5.1 (PL*) on its own: the relative change of the tangent kernel under gradient descent
against width for the square, logistic and hinge losses, their loss curves, and the per-step contraction of
the square loss against the rate predicted from lambda_min of the tangent kernel. The claims
``theorems/lzb_review_other_losses.py`` and ``lzb_review_pl_star.py`` decide these on drawn cases; this
script draws the curves.

    python -m experiments.lzb_review_losses [--budget quick|paper] --out DIR [--widths 64,...] [--networks N]
        [--steps T] [--datasets synthetic,digits] [--pl-width m] [--pl-networks N] [--pl-steps T] [--seed S]
        [--scheduler tcp://HOST:PORT | --jobs N]

Losses (``estimators.training``: ``draw_networks`` + ``train_gradient_descent``, float64): linear-output tanh
LZB nets of depth 2, n = 16 points (synthetic in R^4, labels sign x_1, or 64-pixel digits, labels even/odd,
rows of norm sqrt(d)), T full-batch GD steps on (1/n) sum_i l(f(x_i), y_i) with l = (1/2)(f - y)^2,
log(1 + e^{-y f}) or max(0, 1 - y f), eta = n / (2 lambda_max(K_0)); the same ``networks`` networks per width
start every loss. Per (dataset, loss, width): the geometric mean of ||K_T - K_0||_F / ||K_0||_F with a
95% t interval on the log scale and the mean of L_T / L_0 with a 95% t interval; per (dataset, loss) the
OLS slope of log kernel change on log m (rows = networks) with a 95% t interval (Thm 3.2 + Eq. 9: the
kernel moves O~(m^-1/2) inside the ball GD stays in; C4 measured ~ -1 for the square loss). The mean
curve L_t / L_0 per (loss, width) is stored (json ``curves``).
PL* (``theorems.lzb_review_pl_star``: ``gd_runs`` and ``contraction_ratios``): width-``pl-width`` tanh nets of
depth 1 and 2 on 8 points of synthetic data in R^12 / R^16 and of digits, T = ``pl-steps`` GD steps on the
square loss (1/2n) sum (f - y)^2 with eta = n / lambda_max(K_0); per network the fitted late-phase
contraction, the OLS slope of log L_t on t over t = T/2..T, over the predicted 2 log(1 - eta
lambda_min(K_0) / n) (the slowest mode of r_{t+1} = (I - eta K_0 / n) r_t); per configuration the mean
ratio with a 95% t interval (Thm 5.1's bound (1 - eta mu)^t is half this rate in log: ratio 1/2), the
condition number lambda_max / lambda_min of K_0 and log10 L_T / L_0.
Dask tasks (``experiments.cells``: a LocalCluster on every core by default, ``--jobs 1`` in this process, or
``--scheduler``): each (dataset, width) of the loss sweep (its networks trained under the three losses, as
before) and each PL* configuration, seeded per (dataset, width) and per configuration as in the serial loops
they replace: the same numbers on any cluster.
Budgets: quick = widths 16, 32, 64, 3 networks, 10 steps, synthetic only; PL* width 64, 3 networks, 40 steps
(seconds); paper = widths 64..2048, 8 networks, 20 steps, synthetic and digits; PL* width 512, 12 networks,
100 steps (minutes). Writes DIR/lzb_review_losses.json (settings, rows, slopes, curves, pl_star), .csv
(rows) and .png (four panels: kernel change vs width, loss curves, PL* loss curves with the predicted
contraction lines, fitted / predicted per configuration); prints the tables and the wall time.
Measured (paper budget, seed 0; 152 s on a shared 2-core CPU, 1 torch thread):
- kernel change slopes on m = 64..2048 (8 networks per width, 20 steps), synthetic / digits: square
  -1.013 [-1.065, -0.961] / -1.013 [-1.080, -0.946]; logistic -0.977 [-1.019, -0.935] / -1.002 [-1.061,
  -0.944]; hinge -0.970 [-1.010, -0.930] / -0.996 [-1.055, -0.938]. At m = 2048 (synthetic) the kernel
  moved by 0.0021 (square), 0.0080 (logistic), 0.0065 (hinge). Every loss: ~1/m, faster than Thm 3.2's
  m^-1/2 bound; cross-entropy and hinge change the kernel 2-4x more than the square loss at every width,
  not at another rate.
- the loss decreases under every loss and width: L_T / L_0 = 0.06-0.12 (square), 0.23-0.27 (logistic),
  0.027-0.038 (hinge) on synthetic data; 0.019-0.024, 0.24-0.30 and exactly 0 (every margin >= 1) on digits.
- PL* (width 512, 12 networks, 100 steps), fitted / predicted log-contraction: synthetic d = 12, depth 1:
  1.008 [1.002, 1.013] (lambda_max / lambda_min 11.0); synthetic d = 16, depth 2: 1.021 [1.002, 1.040]
  (6.7); digits, depth 1: 1.006 [1.001, 1.010] (5.9); digits, depth 2: 1.032 [1.008, 1.056] (7.9). The
  late-phase rate is (1 - eta lambda_min / n)^2 per step to within 3%, twice Thm 5.1's bound in log;
  log10 L_T / L_0 = -10.0, -17.2, -17.5, -14.1.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from scipy import stats

from engine.budget import MonteCarlo
from estimators.hessian import draw_networks
from estimators.sampling import derive_seed
from estimators.training import LOSSES, train_gradient_descent, training_set
from experiments.cells import add_cluster_arguments, map_cells
from experiments.lzb_review_softmax_attention import power_law_fit, width_rows
from experiments.outputs import pyplot, write_data
from models.lzb import DATASETS, LZBNet
from models.strategies_lzb import TrainingCase
from theorems.lzb_review_pl_star import contraction_ratios, gd_runs

NAME = "lzb_review_losses"
BUDGETS = {
    "quick": {"widths": (16, 32, 64), "networks": 3, "steps": 10, "datasets": ("synthetic",),
              "pl_width": 64, "pl_networks": 3, "pl_steps": 40},
    "paper": {"widths": (64, 128, 256, 512, 1024, 2048), "networks": 8, "steps": 20,
              "datasets": ("synthetic", "digits"), "pl_width": 512, "pl_networks": 12, "pl_steps": 100},
}  # fmt: skip
N_POINTS, DEPTH, SYNTHETIC_DIM = 16, 2, 4
PL_POINTS = 8
PL_CONFIGS = (("synthetic", 12, 1), ("synthetic", 16, 2), ("digits", 64, 1), ("digits", 64, 2))  # dataset, d, depth


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean with its 95% t interval."""
    mean, half = float(values.mean()), float(stats.t.ppf(0.975, len(values) - 1) * stats.sem(values))
    return mean, mean - half, mean + half


@dataclasses.dataclass(frozen=True)
class LossCell:
    """One Dask task: the networks of one width on one dataset, trained under every loss."""

    dataset: str
    width: int
    networks: int
    steps: int
    seed: int


@dataclasses.dataclass(frozen=True)
class PLCell:
    """One Dask task: one PL* configuration."""

    dataset: str
    input_dim: int
    depth: int
    width: int
    networks: int
    steps: int
    seed: int


def loss_cell(cell: LossCell) -> dict[str, dict]:
    """loss -> per network kernel change and L_T / L_0, and the mean curve L_t / L_0 (the same networks start
    every loss)."""
    input_dim = 64 if cell.dataset == "digits" else SYNTHETIC_DIM
    x, labels = training_set(cell.dataset, N_POINTS, input_dim, derive_seed(cell.seed, NAME, cell.dataset, "data"))
    spec = LZBNet(input_dim, DEPTH, cell.width, "tanh", "identity")
    weights = draw_networks(spec, derive_seed(cell.seed, NAME, cell.dataset, cell.width), cell.networks)
    out = {}
    for loss in LOSSES:
        run = train_gradient_descent(spec, weights, x, labels, cell.steps, loss)
        out[loss] = {"kernel_change": run.kernel_change.numpy(), "loss_ratio": run.loss_ratio.numpy(),
                     "mean_loss_ratio": (run.loss / run.loss[:, :1]).mean(dim=0).tolist()}  # fmt: skip
    return out


def pl_cell(cell: PLCell) -> dict:
    """Fitted / predicted contraction per network and its mean with a 95% interval, for one configuration."""
    case = TrainingCase(LZBNet(cell.input_dim, cell.depth, cell.width, "tanh", "identity"), cell.dataset, PL_POINTS,
                        (cell.width,), cell.steps)  # fmt: skip
    mc = MonteCarlo(cell.networks, derive_seed(cell.seed, NAME, "pl", cell.dataset, cell.input_dim, cell.depth))
    run = gd_runs(case, mc)
    fitted, predicted = contraction_ratios(case, run)
    ratio = fitted / predicted
    mean, low, high = mean_interval(ratio)
    eigenvalues = run.kernel_eigenvalues.numpy()
    log10_fraction = np.log10(run.loss_ratio.numpy())
    return {
        "case": f"{cell.dataset} d={cell.input_dim}, depth {cell.depth}", "ratio": mean, "ratio_ci_low": low,
        "ratio_ci_high": high, "ratios": ratio.tolist(), "fitted": fitted.tolist(), "predicted": predicted.tolist(),
        "condition_number": float(np.median(eigenvalues[:, -1] / eigenvalues[:, 0])),
        "log10_loss_ratio": mean_interval(log10_fraction),
        "eta_mu": (run.learning_rate.numpy() * eigenvalues[:, 0] / PL_POINTS).tolist(),
        "loss_curve": (run.loss[0] / run.loss[0, 0]).tolist(),
    }  # fmt: skip


def run_cell(cell: LossCell | PLCell) -> dict:
    """The one function of ``map_cells``: a loss-sweep cell or a PL* cell."""
    return loss_cell(cell) if isinstance(cell, LossCell) else pl_cell(cell)


def loss_sweep(args: argparse.Namespace, dataset: str, found: list[dict[str, dict]]) -> tuple[list, list, list]:
    """Per (loss, width) rows of kernel change and L_T / L_0, per loss the slopes, per (loss, width) the curve,
    from ``found`` (the ``loss_cell`` results of ``dataset``, one per width)."""
    rows, slopes, curves = [], [], []
    for loss in LOSSES:
        label = f"{dataset}, {loss}"
        width = np.concatenate([np.full(args.networks, float(m)) for m in args.widths])
        change = np.concatenate([at[loss]["kernel_change"] for at in found])
        ratio = np.concatenate([at[loss]["loss_ratio"] for at in found])
        for row, m in zip(width_rows(label, "kernel_change", width, change), args.widths, strict=True):
            mean, low, high = mean_interval(ratio[width == m])
            rows.append({**row, "dataset": dataset, "loss": loss, "loss_ratio": mean, "loss_ratio_ci_low": low,
                         "loss_ratio_ci_high": high})  # fmt: skip
        slopes.append({**power_law_fit(label, "kernel_change", width, change), "dataset": dataset, "loss": loss})
        curves += [{"dataset": dataset, "loss": loss, "width": m, "mean_loss_ratio": at[loss]["mean_loss_ratio"]}
                   for m, at in zip(args.widths, found, strict=True)]  # fmt: skip
    return rows, slopes, curves


def write(data: dict, out: Path) -> None:
    """DIR/NAME.json, .csv (kernel-change rows) and the four-panel DIR/NAME.png."""
    plt = pyplot()
    rows, slopes = data["rows"], data["slopes"]
    write_data(out, NAME, data, rows)
    figure, ((kernel, curves), (pl, ratios)) = plt.subplots(2, 2, figsize=(12, 8.5))
    colours = {"square": "C0", "logistic": "C1", "hinge": "C2"}
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        style = "-" if dataset == "synthetic" else "--"
        for loss in LOSSES:
            mine = [r for r in rows if r["dataset"] == dataset and r["loss"] == loss]
            fit = next(s for s in slopes if s["dataset"] == dataset and s["loss"] == loss)
            mean = np.array([r["geometric_mean"] for r in mine])
            error = [mean - [r["ci_low"] for r in mine], [r["ci_high"] for r in mine] - mean]
            label = f"{dataset}, {loss}: {fit['slope']:+.2f} [{fit['ci_low']:+.2f}, {fit['ci_high']:+.2f}]"
            kernel.errorbar([r["width"] for r in mine], mean, yerr=error, fmt="o" + style, ms=3, capsize=2,
                            color=colours[loss], label=label)  # fmt: skip
    widths = np.array(data["settings"]["widths"], float)
    anchor = max(r["geometric_mean"] for r in rows if r["width"] == widths[0])
    for power, line in ((-0.5, ":"), (-1.0, "-.")):
        kernel.plot(widths, anchor * (widths / widths[0]) ** power, "k" + line, lw=0.8, label=f"m^{power:g}")
    kernel.set(xscale="log", yscale="log", xlabel="width m", ylabel="||K_T - K_0||_F / ||K_0||_F")
    kernel.set_title(f"kernel change after {data['settings']['steps']} GD steps (slopes, 95% intervals)", fontsize=9)
    kernel.legend(fontsize=6)
    first = data["settings"]["datasets"][0]
    for c in (c for c in data["curves"] if c["dataset"] == first and c["width"] in (widths[0], widths[-1])):
        curves.plot(c["mean_loss_ratio"], "-" if c["width"] == widths[-1] else ":", color=colours[c["loss"]],
                    label=f"{c['loss']}, m={c['width']}")  # fmt: skip
    curves.set(yscale="log", xlabel="GD step t", ylabel="mean L_t / L_0", title=f"loss curves ({first})")
    curves.legend(fontsize=7)
    half = data["settings"]["pl_steps"] // 2
    for i, result in enumerate(data["pl_star"]):
        curve, eta_mu = np.array(result["loss_curve"]), result["eta_mu"][0]
        t = np.arange(len(curve))
        line = pl.plot(t, curve, "-", lw=1.2, color=f"C{i}", label=result["case"])[0]
        late = t[half:]
        pl.plot(late, curve[half] * (1 - eta_mu) ** (2 * (late - half)), "--", color=line.get_color(), lw=0.8)
        pl.plot(t, (1 - eta_mu) ** t, ":", color=line.get_color(), lw=0.8)
    pl.set(yscale="log", xlabel="GD step t", ylabel="L_t / L_0 (first network)",
           title="PL*: dashed (1 - eta lambda_min/n)^(2t) from T/2, dotted Thm 5.1's (1 - eta mu)^t")  # fmt: skip
    pl.title.set_fontsize(9)
    pl.legend(fontsize=7)
    y = np.arange(len(data["pl_star"]))
    mean = np.array([r["ratio"] for r in data["pl_star"]])
    error = [mean - [r["ratio_ci_low"] for r in data["pl_star"]], [r["ratio_ci_high"] for r in data["pl_star"]] - mean]
    ratios.errorbar(mean, y, xerr=error, fmt="o", capsize=3)
    for r, row in zip(data["pl_star"], y, strict=True):
        ratios.plot(r["ratios"], np.full(len(r["ratios"]), row) + 0.15, "k.", ms=3, alpha=0.5)
    ratios.axvline(1.0, color="k", lw=0.8)
    ratios.axvline(0.5, color="k", ls=":", lw=0.8)
    ratios.set_yticks(y, [r["case"] for r in data["pl_star"]], fontsize=7)
    ratios.set(xlabel="fitted / predicted log-contraction per step (1: predicted, 0.5: Thm 5.1's bound)",
               title="PL* rate: mean with 95% interval, dots = networks")  # fmt: skip
    ratios.title.set_fontsize(9)
    ratios.xaxis.label.set_fontsize(8)
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--widths", type=lambda s: tuple(int(w) for w in s.split(",")), default=None)
    parser.add_argument("--datasets", type=lambda s: tuple(s.split(",")), default=None)
    for name in ("networks", "steps", "pl-width", "pl-networks", "pl-steps"):
        parser.add_argument(f"--{name}", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("widths", "networks", "steps", "datasets", "pl_width", "pl_networks", "pl_steps"):
        if getattr(args, name) is None:
            setattr(args, name, BUDGETS[args.budget][name])
    if len(set(args.widths)) < 2 or min(args.widths) < 1 or list(args.widths) != sorted(args.widths):
        raise ValueError(f"--widths must be two or more increasing widths >= 1, got {args.widths}")
    if not args.datasets or not set(args.datasets) <= set(DATASETS):
        raise ValueError(f"--datasets must be a comma list of {DATASETS}, got {args.datasets}")
    if min(args.networks, args.pl_networks) < 2 or args.steps < 1 or args.pl_steps < 4 or args.pl_width < 1:
        raise ValueError(
            f"need --networks and --pl-networks >= 2, --steps >= 1, --pl-steps >= 4, --pl-width >= 1: "
            f"{args.networks}, {args.pl_networks}, {args.steps}, {args.pl_steps}, {args.pl_width}"
        )
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    started = time.perf_counter()
    losses = [LossCell(dataset, m, args.networks, args.steps, args.seed) for dataset in args.datasets
              for m in args.widths]  # fmt: skip
    configs = [PLCell(dataset, d, depth, args.pl_width, args.pl_networks, args.pl_steps, args.seed)
               for dataset, d, depth in PL_CONFIGS]  # fmt: skip

    def cost(cell: LossCell | PLCell) -> float:  # network-width-steps, three losses per LossCell
        return cell.width * cell.networks * cell.steps * (3 if isinstance(cell, LossCell) else 1)

    done = map_cells(run_cell, losses + configs, args.scheduler, args.jobs, desc=NAME, cost=cost)
    rows, slopes, curves = [], [], []
    for i, dataset in enumerate(args.datasets):
        parts = loss_sweep(args, dataset, done[i * len(args.widths) : (i + 1) * len(args.widths)])
        rows, slopes, curves = rows + parts[0], slopes + parts[1], curves + parts[2]
    results = done[len(losses) :]
    settings = {"budget": args.budget, "widths": list(args.widths), "networks": args.networks, "steps": args.steps,
                "datasets": list(args.datasets), "depth": DEPTH, "activation": "tanh", "n_points": N_POINTS,
                "synthetic_dim": SYNTHETIC_DIM, "lr": "n / (2 lambda_max(K_0))", "pl_width": args.pl_width,
                "pl_networks": args.pl_networks, "pl_steps": args.pl_steps, "pl_points": PL_POINTS,
                "pl_lr": "n / lambda_max(K_0)", "seed": args.seed, "interval": "95% t"}  # fmt: skip
    data = {"settings": settings, "rows": rows, "slopes": slopes, "curves": curves, "pl_star": results}
    write(data, args.out)
    for r in rows:
        print(f"{r['case']:>20s}  m={r['width']:>5d}  kernel change {r['geometric_mean']:.4f} "
              f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]  L_T/L_0 {r['loss_ratio']:.3f} "
              f"[{r['loss_ratio_ci_low']:.3f}, {r['loss_ratio_ci_high']:.3f}]")  # fmt: skip
    for s in slopes:
        print(f"{s['case']:>20s}  slope {s['slope']:+.3f} [{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]")
    for r in results:
        fraction = r["log10_loss_ratio"]
        print(f"PL* {r['case']:>24s}  fitted/predicted {r['ratio']:.3f} [{r['ratio_ci_low']:.3f}, "
              f"{r['ratio_ci_high']:.3f}]  lambda_max/lambda_min {r['condition_number']:.1f}  "
              f"log10 L_T/L_0 {fraction[0]:.2f} [{fraction[1]:.2f}, {fraction[2]:.2f}]")  # fmt: skip
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return data


if __name__ == "__main__":
    main()
