"""Liu, Zhu & Belkin (NeurIPS 2020), Review 2 ("softmax nonlinearities that appear in self-attention layers ...
Is the condition (b) in Theorem 3.1 violated ... do authors believe these networks would not have constant
tangent kernels?"): the Hessian spectral norm ||d^2 f / dw^2|| at initialisation against width, for a
softmax output and for one softmax self-attention layer with the 1/sqrt(m) and the 1/m logit scalings, and
a linear-output net for reference. The claims ``theorems/lzb_review_softmax_output.py`` and
``lzb_review_attention.py`` decide the slopes on drawn architectures; this script draws the curves.

    python -m experiments.lzb_review_softmax_attention [--budget quick|paper] --out DIR [--widths 64,...]
        [--attention-widths 16,...] [--networks N] [--depth L] [--classes C] [--tokens T] [--seed S]
        [--scheduler tcp://HOST:PORT | --jobs N]

Networks (``models.presets``, tanh hidden activations): ``linear output``, f = v h_L / sqrt(m) of an LZB net
of depth L on d = 4 inputs; ``softmax output``, f = softmax(z)_0 over C = 4 logits z = V h_L / sqrt(m) of
the same body; ``attention 1/sqrt(m)`` and ``attention 1/m``: T = 3 tokens of dim 4 -> E x_t / sqrt(d) (width
m) -> one softmax self-attention head with logits q_s . k_t scaled by 1/sqrt(m) or 1/m -> tanh -> mean over
tokens -> v h / sqrt(m). One seeded input of norm sqrt(dim) per family (coordinates O(1)).
Estimated (``estimators.hessian.hessian_norms``, float64): ||H_f|| at w0 by Lanczos on Hessian-vector
products (relative residual <= 1e-3; the attention matrices are shared over tokens, so the full weight
space), ``networks`` fresh networks per width. Per width the geometric mean with a 95% t interval (on
log ||H||); per family the OLS slope of log ||H|| on log m (rows = networks) with a 95% t interval, over
all widths and over the widest three. Thm 3.2 (linear output): slope -1/2. Softmax output (Sec. 4, C2):
H_f = sum_ij S_ij grad z_i grad z_j^T + ..., whose first part is Theta(1): slope -> 0.
Each family is one Dask task (``experiments.cells``: a LocalCluster on every core by default, ``--jobs 1``
in this process, or ``--scheduler``), seeded per family as in the serial loop it replaces: the same numbers on
any cluster. Not finer: ``hessian_norms`` seeds the networks of width i by their index in the family's sweep
(``derive_seed(seed, i)``), so a task per width would draw other networks; four tasks keep them. (As in the
serial loop, ``hessian_norms`` splits a width's networks into Lanczos chunks that fit in the memory free at the
time, each chunk with its own Lanczos start: the paper budget's attention at m = 256 needs ~19 GiB free for one
chunk; with less, e.g. beside another worker, the norms there can differ within the Lanczos tolerance, 1e-3.)
Budgets: quick = widths 16, 32, 64 (attention 8, 16, 32), 3 networks (seconds); paper = widths 64..2048
(attention 16..256), 16 networks (minutes). Writes DIR/lzb_review_softmax_attention.json (settings, rows,
slopes), .csv (rows) and .png (log-log ||H|| vs width, fitted lines, width^-1/2 reference); prints the
tables and the wall time.
Measured (paper budget, seed 0, depth 2, 3 tokens; 112 s on a shared 2-core CPU, 1 torch thread), OLS
slopes with 95% intervals (widest three in brackets after):
- linear output: ||H|| 0.307 -> 0.059 from m = 64 to 2048, slope -0.469 [-0.482, -0.456] (widest three
  -0.448 [-0.477, -0.419]): Thm 3.2's m^-1/2 (a little shallower at these widths).
- softmax output: 0.105, 0.094, 0.090, 0.089, 0.094, 0.099, slope -0.013 [-0.039, +0.014] (widest three
  +0.078 [+0.002, +0.154]): ||H_f|| does not vanish; the tangent kernel of a softmax output is not constant.
- attention 1/sqrt(m): 1.03 -> 0.85 from m = 16 to 256, slope -0.064 [-0.126, -0.002] (widest three
  -0.03 [-0.14, +0.08]): Theta(1), no m^-1/2; with the standard scaling, softmax attention is not in
  the constant-kernel regime.
- attention 1/m: 0.445 -> 0.120, slope -0.472 [-0.499, -0.445] (widest three -0.468 [-0.506, -0.430]):
  vanishes like a dense net's m^-1/2; the answer to the reviewer depends on the logit scaling.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from scipy import stats

from engine.statistics import ols_slope
from estimators.hessian import hessian_norms
from estimators.sampling import derive_seed
from experiments.cells import add_cluster_arguments, map_cells
from experiments.outputs import pyplot, write_data
from models import presets
from models.network import Network

NAME = "lzb_review_softmax_attention"
BUDGETS = {
    "quick": {"widths": (16, 32, 64), "attention_widths": (8, 16, 32), "networks": 3},
    "paper": {"widths": (64, 128, 256, 512, 1024, 2048), "attention_widths": (16, 32, 64, 128, 256), "networks": 16},
}
INPUT_DIM = 4
TOKEN_DIM = 4


def width_rows(case: str, quantity: str, width: np.ndarray, values: np.ndarray) -> list[dict]:
    """Per width: the geometric mean of ``values`` with a 95% t interval on the log scale, SD of log, count."""
    rows = []
    for m in dict.fromkeys(width.tolist()):
        logs = np.log(values[width == m])
        half = stats.t.ppf(0.975, len(logs) - 1) * logs.std(ddof=1) / np.sqrt(len(logs))
        rows.append({"case": case, "quantity": quantity, "width": int(m), "geometric_mean": float(np.exp(logs.mean())),
                     "ci_low": float(np.exp(logs.mean() - half)), "ci_high": float(np.exp(logs.mean() + half)),
                     "log_sd": float(logs.std(ddof=1)), "draws": len(logs)})  # fmt: skip
    return rows


def power_law_fit(case: str, quantity: str, width: np.ndarray, values: np.ndarray, widths: str = "all") -> dict:
    """OLS slope of log ``values`` on log ``width`` (``engine.statistics.ols_slope``, rows independent) with its
    95% t interval, and the intercept (mean log value - slope mean log width) for drawing the line."""
    x, y = np.log(np.asarray(width, float)), np.log(np.asarray(values, float))
    fit = ols_slope(x, y, f"slope of log {quantity} on log width")
    slope, se, dof = float(fit.estimate[0]), float(fit.standard_error[0]), float(fit.dof[0])
    half = float(stats.t.ppf(0.975, dof)) * se
    return {"case": case, "quantity": quantity, "widths": widths, "slope": slope, "se": se, "dof": dof,
            "ci_low": slope - half, "ci_high": slope + half, "intercept": float(y.mean() - slope * x.mean()),
            "n_rows": len(x)}  # fmt: skip


def families(args: argparse.Namespace) -> dict[str, tuple[tuple[int, ...], list[Network], int]]:
    """label -> (widths, one network per width, input dimension)."""
    body = lambda m: (m,) * args.depth  # noqa: E731
    aw = tuple(args.attention_widths)
    return {
        "linear output": (args.widths, [presets.lzb(INPUT_DIM, body(m), "tanh", "identity") for m in args.widths],
                          INPUT_DIM),
        f"softmax output ({args.classes} logits)": (
            args.widths, [presets.softmax_output(INPUT_DIM, body(m), "tanh", args.classes) for m in args.widths],
            INPUT_DIM),
        "attention 1/sqrt(m)": (aw, [presets.attention_net(args.tokens, TOKEN_DIM, m, 1, "sqrt", "tanh") for m in aw],
                                args.tokens * TOKEN_DIM),
        "attention 1/m": (aw, [presets.attention_net(args.tokens, TOKEN_DIM, m, 1, "linear", "tanh") for m in aw],
                          args.tokens * TOKEN_DIM),
    }  # fmt: skip


def one_input(dim: int, seed: int) -> tuple[tuple[float, ...], ...]:
    """One seeded Gaussian input rescaled to norm sqrt(dim)."""
    x = np.random.default_rng(seed).standard_normal(dim)
    return (tuple(float(c) for c in x * np.sqrt(dim) / np.linalg.norm(x)),)


def parse(argv: list[str] | None) -> argparse.Namespace:
    widths = lambda s: tuple(int(w) for w in s.split(","))  # noqa: E731
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--widths", type=widths, default=None)
    parser.add_argument("--attention-widths", type=widths, default=None)
    parser.add_argument("--networks", type=int, default=None)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("widths", "attention_widths", "networks"):
        if getattr(args, name) is None:
            setattr(args, name, BUDGETS[args.budget][name])
    for name in ("widths", "attention_widths"):
        value = getattr(args, name)
        if len(set(value)) < 2 or min(value) < 1 or list(value) != sorted(value):
            raise ValueError(f"--{name.replace('_', '-')} must be two or more increasing widths >= 1, got {value}")
    if args.networks < 2 or args.depth < 1 or args.classes < 2 or args.tokens < 1:
        raise ValueError(f"need --networks >= 2, --depth >= 1, --classes >= 2 and --tokens >= 1: "
                         f"{args.networks}, {args.depth}, {args.classes}, {args.tokens}")  # fmt: skip
    return args


@dataclasses.dataclass(frozen=True)
class FamilyCell:
    """One Dask task: the networks of one family at every width."""

    label: str
    networks: tuple[Network, ...]
    dim: int
    n_networks: int
    seed: int


def family_cell(cell: FamilyCell) -> np.ndarray:
    """(widths, networks): ||H_f|| at w0 (``hessian_norms``; the networks of width i from ``derive_seed(seed, i)``)."""
    x = one_input(cell.dim, derive_seed(cell.seed, NAME, cell.label, "input"))
    return hessian_norms(cell.networks, x, cell.n_networks, derive_seed(cell.seed, NAME, cell.label)).numpy()


def measure(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Per (family, width) rows of ||H_f|| and per family the slopes over all widths and over the widest three."""
    found = families(args)
    cells = [FamilyCell(label, tuple(networks), dim, args.networks, args.seed)
             for label, (_, networks, dim) in found.items()]  # fmt: skip
    rows, slopes = [], []
    done = map_cells(family_cell, cells, args.scheduler, args.jobs, desc=NAME)
    for (label, (widths, _, _)), norms in zip(found.items(), done, strict=True):
        width = np.repeat(np.asarray(widths, float), args.networks)
        rows += width_rows(label, "hessian_norm", width, norms.ravel())
        slopes.append(power_law_fit(label, "hessian_norm", width, norms.ravel()))
        if len(widths) > 3:
            wide = width >= widths[-3]
            slopes.append(power_law_fit(label, "hessian_norm", width[wide], norms.ravel()[wide], "widest 3"))
    return rows, slopes


def write(rows: list[dict], slopes: list[dict], out: Path, settings: dict) -> None:
    """DIR/NAME.json, .csv and the log-log plot DIR/NAME.png."""
    plt = pyplot()
    write_data(out, NAME, {"settings": settings, "rows": rows, "slopes": slopes}, rows)
    figure, axis = plt.subplots(figsize=(7, 4.8))
    for label in dict.fromkeys(r["case"] for r in rows):
        mine = [r for r in rows if r["case"] == label]
        fit = next(s for s in slopes if s["case"] == label and s["widths"] == "all")
        widths, mean = np.array([r["width"] for r in mine], float), np.array([r["geometric_mean"] for r in mine])
        error = [mean - [r["ci_low"] for r in mine], [r["ci_high"] for r in mine] - mean]
        interval = f"[{fit['ci_low']:+.2f}, {fit['ci_high']:+.2f}]"
        line = axis.errorbar(widths, mean, yerr=error, fmt="o", ms=4, capsize=2,
                             label=f"{label}: slope {fit['slope']:+.2f} {interval}")  # fmt: skip
        axis.plot(widths, np.exp(fit["intercept"]) * widths ** fit["slope"], "-", lw=1, color=line[0].get_color())
        if label == "linear output":
            axis.plot(widths, mean[0] * 0.6 * (widths / widths[0]) ** -0.5, "k:", lw=0.8, label="width^-1/2")
    axis.set(xscale="log", yscale="log", xlabel="width m", ylabel="||d^2 f / dw^2||_2 at init (Lanczos)")
    axis.set_title(f"{settings['networks']} networks per width, geometric means with 95% intervals", fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    args = parse(argv)
    started = time.perf_counter()
    rows, slopes = measure(args)
    settings = {"budget": args.budget, "widths": list(args.widths), "attention_widths": list(args.attention_widths),
                "networks": args.networks, "depth": args.depth, "classes": args.classes, "tokens": args.tokens,
                "token_dim": TOKEN_DIM, "input_dim": INPUT_DIM, "activation": "tanh", "seed": args.seed,
                "lanczos_rtol": 1e-3, "interval": "95% t"}  # fmt: skip
    write(rows, slopes, args.out, settings)
    for r in rows:
        print(f"{r['case']:>26s}  m={r['width']:>5d}  ||H|| {r['geometric_mean']:.4f} "
              f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]  (log SD {r['log_sd']:.2f})")  # fmt: skip
    for s in slopes:
        interval = f"[{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]"
        print(f"{s['case']:>26s}  slope ({s['widths']:>8s}) {s['slope']:+.3f} {interval}")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows, slopes


if __name__ == "__main__":
    main()
