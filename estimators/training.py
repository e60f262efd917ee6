"""Tangent-kernel change along paths and under gradient descent (Liu, Zhu & Belkin, NeurIPS 2020).

Paths (Prop. 2.1). A model is f(theta, X) -> (k,) of a flat float64 weight vector theta (P,). Its tangent
kernel K(theta) = J J^T, J = df/dtheta (k, P), is computed by ``torch.func.jacrev`` (generic, any model).
Prop. 2.1: K is constant on a set iff f is linear in theta there. Along a path theta(t), t in [0, 1],
``path_change`` reports max_t ||K(t) - K(0)||_F / ||K(0)||_F and the linearity defect
max_t ||f(t) - f(0) - J(0)(theta(t) - theta(0))|| / ||f(t) - f(0)||. Paths: the segment
theta0 + t R u, and the quarter circle theta0 + R (sin(pi t/2) u + (1 - cos(pi t/2)) u'), u _|_ u' unit.

Training (THEOREMS.md C4). Full-batch gradient descent on L(w) = (1/2n) sum_i (f(x_i; w) - y_i)^2 for B
networks at once, with step size eta_b = lr_fraction * n / lambda_max(K_0,b): in NTK parameterisation
K_0 -> Theta(1) as m grows, so eta is width-independent, and eta lambda_max / n = lr_fraction (1/2 by
default) is a quarter of the stability limit 2 of the linearised dynamics r_{t+1} = (I - eta K/n) r_t.
Inputs have rows of norm sqrt(d), so every coordinate is O(1) and the first pre-activations
W x / sqrt(d) are N(0, 1); labels are +-1 and the targets are s(label) for the output activation s
(reachable: attained at z = +-1). ``train_gradient_descent`` also takes the logistic (cross-entropy) and
hinge losses of the labels +-1 (``LOSSES``), at the same step size. Everything is float64.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from statsmodels.stats.weightstats import DescrStatsW
from torch.func import jacrev

from engine.budget import MonteCarlo
from engine.intervals import Estimates
from engine.statistics import ols_slope
from estimators.hessian import check_weights, draw_networks, ntk_gram
from estimators.memory import check_fits, first_batched_weight
from estimators.sampling import derive_seed
from models.activations import ACTIVATIONS
from models.base import ArchitectureSpec
from models.lzb import DATASETS, PATHS, LZBNet
from models.strategies_lzb import LossCase, PathCase, TrainingCase
from models.validation import positive_int

FlatModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def random_features_model(input_dim: int, width: int, activation: str, seed: int) -> tuple[FlatModel, int]:
    """f(w, X) = sigma(X A^T / sqrt(d)) w / sqrt(m) with fixed A ~ N(0, 1) (m, d): linear in w (P = m)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"random_features_model.activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    positive_int("random_features_model", "input_dim", input_dim)
    positive_int("random_features_model", "width", width)
    generator = torch.Generator().manual_seed(derive_seed(seed, "features"))
    features = torch.randn(width, input_dim, generator=generator, dtype=torch.float64)
    sigma = ACTIVATIONS[activation]

    def f(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return sigma(x @ features.T / input_dim**0.5) @ w / width**0.5

    return f, width


def spec_model(spec: ArchitectureSpec) -> tuple[FlatModel, int]:
    """A spec (every matrix trained) as f(theta, X) of its flat weights."""
    shapes = spec.weight_shapes()
    if set(shapes) != spec.trained():
        raise ValueError("spec_model needs every matrix trained")

    def f(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        parts, offset = {}, 0
        for name, (fan_out, fan_in) in shapes.items():
            parts[name] = theta[offset : offset + fan_out * fan_in].view(1, fan_out, fan_in)
            offset += fan_out * fan_in
        return spec.apply(parts, x[None])[0]

    return f, spec.n_parameters()


def tangent_kernel(model: FlatModel, theta: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(K(theta) = J J^T (k, k), J (k, P)) with J = df(theta, X)/dtheta by reverse mode."""
    jacobian = jacrev(model)(theta, x)
    return jacobian @ jacobian.T, jacobian


@dataclass(frozen=True)
class PathChange:
    """max over the path of the relative kernel change and of the relative linearity defect."""

    kernel_change: float
    linearity_defect: float


def path_change(
    model: FlatModel,
    n_parameters: int,
    x: torch.Tensor,
    radius: float,
    seed: int,
    path: str = "line",
    n_points: int = 8,
) -> PathChange:
    """Kernel change and linearity defect (module docstring) at ``n_points`` points t = 1/n..1 of ``path``,
    with theta0 ~ N(0, I) and the unit directions u, u' drawn from ``seed``."""
    if not (isinstance(radius, int | float) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"path_change.radius must be finite and > 0, got {radius!r}")
    if path not in PATHS:
        raise ValueError(f"path_change.path must be one of {PATHS}, got {path!r}")
    positive_int("path_change", "n_points", n_points)
    generator = torch.Generator().manual_seed(derive_seed(seed, "path"))
    theta0 = torch.randn(n_parameters, generator=generator, dtype=torch.float64)
    u = torch.randn(n_parameters, generator=generator, dtype=torch.float64)
    u = u / u.norm()
    other = torch.randn(n_parameters, generator=generator, dtype=torch.float64)
    other = other - (other @ u) * u
    other = other / other.norm()
    k0, j0 = tangent_kernel(model, theta0, x)
    f0 = model(theta0, x)
    changes, defects = [], []
    for t in torch.linspace(0, 1, n_points + 1, dtype=torch.float64)[1:]:
        if path == "line":
            step = t * radius * u
        else:
            angle = math.pi * float(t) / 2
            step = radius * (math.sin(angle) * u + (1 - math.cos(angle)) * other)
        kernel, _ = tangent_kernel(model, theta0 + step, x)
        moved = model(theta0 + step, x) - f0
        changes.append(float((kernel - k0).norm() / k0.norm()))
        defects.append(float((moved - j0 @ step).norm() / moved.norm()))
    return PathChange(max(changes), max(defects))


# --- gradient descent on a square loss -----------------------------------------------------------


def training_set(name: str, n_points: int, input_dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(X (n, d) with rows of norm sqrt(d), labels (n,) in {-1, +1}), float64.

    ``synthetic``: x ~ N(0, I_d) directions, label sign(x_1). ``digits``: n images drawn without replacement
    (seeded) from scikit-learn's bundled 8x8 digits (``load_digits``, no download), pixels centred by the
    dataset mean, label +1 for an even digit; input_dim must be 64."""
    positive_int("training_set", "n_points", n_points, minimum=2)
    positive_int("training_set", "input_dim", input_dim)
    generator = torch.Generator().manual_seed(derive_seed(seed, "training-set", name))
    if name == "synthetic":
        x = torch.randn(n_points, input_dim, generator=generator, dtype=torch.float64)
        labels = torch.where(x[:, 0] > 0, 1.0, -1.0).to(torch.float64)
    elif name == "digits":
        from sklearn.datasets import load_digits

        if input_dim != 64:
            raise ValueError(f"training_set digits needs input_dim=64 (8x8 pixels), got {input_dim}")
        data = load_digits()
        if n_points > len(data.target):
            raise ValueError(f"training_set digits has {len(data.target)} images, asked for {n_points}")
        pixels = torch.tensor(data.data, dtype=torch.float64)
        pixels = pixels - pixels.mean(dim=0)
        pick = torch.randperm(len(data.target), generator=generator)[:n_points]
        x = pixels[pick]
        labels = torch.tensor(np.where(data.target[pick.numpy()] % 2 == 0, 1.0, -1.0), dtype=torch.float64)
    else:
        raise ValueError(f"training_set.name must be one of {DATASETS}, got {name!r}")
    return x * (input_dim**0.5 / x.norm(dim=1, keepdim=True)), labels


def _square(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * (f - y).pow(2)


def _logistic(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.softplus(-y * f)


def _hinge(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.relu(1.0 - y * f)


# Per-point losses l(f, y), averaged over the n points: square (1/2)(f - y)^2; logistic (binary cross-entropy
# of sigmoid(f) with labels +-1) log(1 + exp(-y f)); hinge max(0, 1 - y f). Their curvature in f is 1, <= 1/4
# and 0 (a.e.), so eta = lr_fraction n / lambda_max(K_0) is within the linearised stability limit for all three.
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "square": _square,
    "logistic": _logistic,
    "hinge": _hinge,
}


@dataclass(frozen=True)
class TrainingRun:
    """B networks after ``steps`` of gradient descent, each (B,): ``kernel_change`` ||K_T - K_0||_F / ||K_0||_F,
    ``loss`` (B, steps + 1) along the run, ``learning_rate`` eta_b, ``weight_change`` ||w_T - w_0||, and
    ``kernel_eigenvalues`` (B, n) of K_0, ascending."""

    kernel_change: torch.Tensor
    loss: torch.Tensor
    learning_rate: torch.Tensor
    weight_change: torch.Tensor
    kernel_eigenvalues: torch.Tensor

    @property
    def loss_ratio(self) -> torch.Tensor:
        """L_T / L_0 (B,)."""
        return self.loss[:, -1] / self.loss[:, 0]


def descend(
    spec: ArchitectureSpec,
    start: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    per_point: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    eta: torch.Tensor,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """``steps`` full-batch GD steps w <- w - eta_b grad (1/n) sum_i l(f(x_i; w_b), y_i) on the matrices
    ``spec`` trains (the others stay at their draws), B networks at once: (final weights, loss path
    (B, steps + 1)). Checked inputs: weights from ``check_weights``, x (n, d), y (n,), eta (B,)."""
    trained = [name for name in start if name in spec.trained()]
    batch_x = x.expand(eta.shape[0], -1, -1)
    current, losses = dict(start), []
    for step in range(steps + 1):
        params = {k: v.detach().requires_grad_(k in trained) for k, v in current.items()}
        value = per_point(spec.apply(params, batch_x), y).mean(dim=1)
        losses.append(value.detach())
        if step == steps:
            break
        grads = torch.autograd.grad(value.sum(), [params[k] for k in trained])
        for name, g in zip(trained, grads, strict=True):
            current[name] = (params[name] - eta[:, None, None] * g).detach()
    return {k: v.detach() for k, v in current.items()}, torch.stack(losses, dim=1)


def train_square_loss(
    spec: ArchitectureSpec,
    weights: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    lr_fraction: float = 0.5,
    max_bytes: int | None = None,
) -> TrainingRun:
    """``train_gradient_descent`` on the square loss (1/2n) sum_i (f(x_i) - y_i)^2."""
    return train_gradient_descent(spec, weights, x, y, steps, "square", lr_fraction, max_bytes)


def train_gradient_descent(
    spec: ArchitectureSpec,
    weights: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    loss: str = "square",
    lr_fraction: float = 0.5,
    max_bytes: int | None = None,
) -> TrainingRun:
    """Full-batch GD on (1/n) sum_i l(f(x_i), y_i) (``LOSSES[loss]``) for B networks at once,
    eta_b = lr_fraction n / lambda_max(K_0,b) (module docstring). ``weights`` name -> (B, out, in); x (n, d);
    y (n,) (labels +-1 for the logistic and hinge losses). A diverged run (non-finite loss) raises a
    ValueError naming the learning rate. Only the matrices ``spec`` trains move (``descend``). Preflight:
    5 weight-sized buffers per network (start, current, parameters with gradients, final) plus activations
    and their gradients, 8 B n sum(fan_out), must fit in ``max_bytes`` (default: available memory)."""
    owner = "train_square_loss" if loss == "square" else "train_gradient_descent"
    if loss not in LOSSES:
        raise ValueError(f"train_gradient_descent.loss must be one of {sorted(LOSSES)}, got {loss!r}")
    per_point = LOSSES[loss]
    positive_int(owner, "steps", steps)
    if (first := first_batched_weight(weights)) is not None:
        n_points = len(x) if hasattr(x, "__len__") else 1
        fan_outs = sum(o for o, _ in spec.weight_shapes().values())
        values = first.shape[0] * (5 * spec.n_parameters(trained_only=False) + 8 * n_points * fan_outs)
        check_fits(
            owner, spec, values * 8,
            f"gradient descent on {first.shape[0]} networks and {n_points} points",
            "train fewer networks per call, on fewer points, or smaller widths", device=first.device,
            max_bytes=max_bytes,
        )  # fmt: skip
    if not (isinstance(lr_fraction, int | float) and 0 < lr_fraction < 2):
        raise ValueError(f"{owner}.lr_fraction must be in (0, 2) (the stability limit), got {lr_fraction!r}")
    start = check_weights(spec, weights)
    x = spec.check_inputs(x)
    y = torch.as_tensor(y, dtype=torch.float64)
    if y.shape != (x.shape[0],) or not torch.isfinite(y).all():
        raise ValueError(f"{owner}.y must be {x.shape[0]} finite targets, got shape {tuple(y.shape)}")
    n = x.shape[0]
    kernel0 = ntk_gram(spec, start, x)
    eigenvalues = torch.linalg.eigvalsh(kernel0)
    top = eigenvalues[:, -1]
    if not bool((top > 0).all()):
        raise ValueError(f"{owner} got a network with K_0 = 0 (f constant near w0: a dead ReLU net?)")
    eta = lr_fraction * n / top
    final, loss_path = descend(spec, start, x, y, steps, per_point, eta)
    if not torch.isfinite(loss_path).all():
        raise ValueError(f"gradient descent diverged at lr_fraction={lr_fraction} (eta = {eta.tolist()})")
    kernel_t = ntk_gram(spec, final, x)
    change = (kernel_t - kernel0).flatten(1).norm(dim=1) / kernel0.flatten(1).norm(dim=1)
    moved = sum((final[k] - start[k]).pow(2).sum(dim=(1, 2)) for k in start).sqrt()  # type: ignore[union-attr]
    return TrainingRun(change, loss_path, eta, moved, eigenvalues)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TrainingSweep:
    """Per network (N rows, ``n_networks`` per width), float64 (N,): width, relative kernel change, L_T / L_0."""

    width: torch.Tensor
    kernel_change: torch.Tensor
    loss_ratio: torch.Tensor


def training_sweep(
    spec: LZBNet,
    dataset: str,
    n_points: int,
    widths: tuple[int, ...],
    steps: int,
    n_networks: int,
    seed: int,
    lr_fraction: float = 0.5,
    loss: str = "square",
) -> TrainingSweep:
    """``train_gradient_descent`` of ``n_networks`` fresh networks at each width (``spec`` with ``width``
    replaced, weights from ``derive_seed(seed, width)``) on one training set (from ``seed``), targets
    s(label) (the labels +-1 under a linear output)."""
    if not isinstance(spec, LZBNet):
        raise ValueError(f"training_sweep needs an LZBNet spec (it replaces the width), got {type(spec).__name__}")
    x, labels = training_set(dataset, n_points, spec.input_dim, seed)
    y = ACTIVATIONS[spec.output_activation](labels)
    rows: dict[str, list[torch.Tensor]] = {"width": [], "kernel_change": [], "loss_ratio": []}
    for width in widths:
        at_width = dataclasses.replace(spec, width=positive_int("training_sweep", "widths[i]", width))
        weights = draw_networks(at_width, derive_seed(seed, width), n_networks)
        run = train_gradient_descent(at_width, weights, x, y, steps, loss, lr_fraction)
        rows["width"].append(torch.full((n_networks,), float(width), dtype=torch.float64))
        rows["kernel_change"].append(run.kernel_change)
        rows["loss_ratio"].append(run.loss_ratio)
    return TrainingSweep(**{k: torch.cat(v) for k, v in rows.items()})


def kernel_change_slope(case: TrainingCase, mc: MonteCarlo) -> Estimates:
    """OLS slope (statsmodels) of log ||K_T - K_0||_F / ||K_0||_F on log width, ``mc.n_draws`` networks per width."""
    sweep = training_sweep(case.spec, case.dataset, case.n_points, case.widths, case.steps, mc.n_draws, mc.seed)
    return ols_slope(np.log(sweep.width.numpy()), np.log(sweep.kernel_change.numpy()), "slope log rel. kernel change")


def path_change_estimates(case: PathCase, mc: MonteCarlo, model: str) -> Estimates:
    """Kernel change and linearity defect along ``case``'s path as two deterministic ``Estimates`` (standard
    error 0) of the random-features model (``model="random features"``, linear in w) or of the LZB net."""
    if model == "random features":
        flat, size = random_features_model(case.spec.input_dim, case.spec.width, case.spec.activation, mc.seed)
    elif model == "LZB net":
        flat, size = spec_model(case.spec)
    else:
        raise ValueError(f"path_change_estimates.model must be 'random features' or 'LZB net', got {model!r}")
    change = path_change(flat, size, torch.tensor(case.inputs, dtype=torch.float64), case.radius, mc.seed, case.path)
    labels = (f"max_t |K(t)-K(0)|/|K(0)| ({model})", f"linearity defect ({model})")
    return Estimates(np.array([change.kernel_change, change.linearity_defect]), 0.0, 1.0, labels, 1)


def linear_model_change(case: PathCase, mc: MonteCarlo) -> Estimates:
    """Kernel change and linearity defect of the random-features model (linear in w) along the path."""
    return path_change_estimates(case, mc, "random features")


def nonlinear_model_change(case: PathCase, mc: MonteCarlo) -> Estimates:
    """Kernel change and linearity defect of the LZB net (non-linear in w) along the path."""
    return path_change_estimates(case, mc, "LZB net")


def log_loss_ratios(case: LossCase, mc: MonteCarlo) -> Estimates:
    """Mean of log(L_T / L_0) over ``mc.n_draws`` networks with its t standard error, per architecture and width."""
    parts = []
    for label, run in zip(case.labels, case.cases, strict=True):
        sweep = training_sweep(
            run.spec, run.dataset, run.n_points, run.widths, run.steps, mc.n_draws, derive_seed(mc.seed, label)
        )
        for width in run.widths:
            stats = DescrStatsW(np.log(sweep.loss_ratio.numpy()[sweep.width.numpy() == width]))
            parts.append(Estimates.single(f"E log(L_T/L_0), {label}, m={width}", float(stats.mean),
                                          float(stats.std_mean), float(stats.nobs - 1), int(stats.nobs)))
    return Estimates.concat(parts)
