"""Moment-ratio estimators for the NTK's normalised variance, with intervals (Littwin et al. Eq. 3, 14).

    eta = E[K^2] / E[K]^2   (Eq. 14),      V = Var(K) / E[K]^2 = eta - 1   (Eq. 3).

From B i.i.d. draws K_1..K_B the plug-in estimates are eta^ = mean(K^2) / mean(K)^2 and
log eta^ = log mean(K^2) - 2 log mean(K). Their standard errors come from the delta method on
the sample means (m1, m2) = (mean K, mean K^2), whose covariance is Cov(K, K^2) / B:

    se(log eta^)^2 = g^T S g / B,   g = (-2 / m1, 1 / m2),   S = sample covariance of (K, K^2);
    se(eta^) = eta^ * se(log eta^).

These need a finite 4th moment of K; eta is heavy-tailed (K roughly log-normal in deep vanilla
nets), so the delta-method coverage is checked on log-normal and chi-square K, where eta is known
in closed form, in ``tests/engine/test_moments.py``; ``eta_bootstrap`` (scipy BCa bootstrap) is the
distribution-free alternative. Measured coverage of the nominal 95% interval for log-normal K (eta =
exp(s^2), 2,000 replications): 93-94% at s^2 <= 0.3 with 3,000-20,000 draws, 89% (3,000) to 92% (20,000)
at s^2 = 0.6: a mild under-coverage from the tail, so claims keep log eta <= ~0.7 or spend 10^5 draws.
Use float64 draws: V is a difference of nearly equal moments.

Scaling laws regress per-point estimates on a design variable with their estimation error:
``weighted_fit`` is statsmodels WLS with weights 1 / se^2 (the per-point variances are known, so the
scale is fixed at 1 — unless the residuals show lack of fit, in which case the estimated scale and
its t degrees of freedom are used: never narrower than either). ``chord_slope`` and ``line_deviations``
(intercept and bend of three points against a line through 0) are delta-method functions of
independent per-point estimates (``delta_method``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import statsmodels.api as sm
from scipy.stats import bootstrap

from engine.intervals import Estimates


def _columns(samples: np.ndarray, labels: Sequence[str], owner: str) -> np.ndarray:
    """Draws as a finite float64 (B, C) array with C = len(labels), B >= 3; else a ValueError."""
    k = np.asarray(samples, dtype=np.float64)
    if k.ndim == 1:
        k = k[:, None]
    if k.ndim != 2 or k.shape[1] != len(labels):
        raise ValueError(f"{owner}.samples must be (B,) or (B, C) with C = {len(labels)} labels, got {k.shape}")
    if k.shape[0] < 3:
        raise ValueError(f"{owner}.samples needs at least 3 draws, got {k.shape[0]}")
    if not np.isfinite(k).all():
        raise ValueError(f"{owner}.samples contains NaN or inf draws")
    return k


def _moments(k: np.ndarray, owner: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: log eta^, its delta-method standard error, and mean(K) (all shape (C,))."""
    m1, m2 = k.mean(axis=0), (k * k).mean(axis=0)
    if (m1 == 0).any() or (m2 == 0).any():
        raise ValueError(f"{owner}.samples has a column with mean(K) = 0 or mean(K^2) = 0: eta is undefined")
    centred_1, centred_2 = k - m1, k * k - m2
    b = k.shape[0]
    var_1 = (centred_1**2).sum(axis=0) / (b - 1)
    var_2 = (centred_2**2).sum(axis=0) / (b - 1)
    cov_12 = (centred_1 * centred_2).sum(axis=0) / (b - 1)
    g1, g2 = -2.0 / m1, 1.0 / m2
    variance = (g1 * g1 * var_1 + 2 * g1 * g2 * cov_12 + g2 * g2 * var_2) / b
    return np.log(m2) - 2 * np.log(np.abs(m1)), np.sqrt(np.maximum(variance, 0.0)), m1


def log_eta(samples: np.ndarray, labels: Sequence[str] = ("log eta",)) -> Estimates:
    """log eta^ = log mean(K^2) - 2 log |mean(K)| per column of (B, C) draws, delta-method SE, dof B - 1."""
    k = _columns(samples, labels, "log_eta")
    estimate, se, _ = _moments(k, "log_eta")
    return Estimates(estimate, se, np.full(len(labels), k.shape[0] - 1.0), tuple(labels), k.shape[0])


def eta_ratio(samples: np.ndarray, labels: Sequence[str] = ("eta",)) -> Estimates:
    """eta^ = mean(K^2) / mean(K)^2 (Eq. 14) per column, SE = eta^ se(log eta^) (delta method)."""
    k = _columns(samples, labels, "eta_ratio")
    log_estimate, se, _ = _moments(k, "eta_ratio")
    eta = np.exp(log_estimate)
    return Estimates(eta, eta * se, np.full(len(labels), k.shape[0] - 1.0), tuple(labels), k.shape[0])


def normalised_variance(samples: np.ndarray, labels: Sequence[str] = ("V",)) -> Estimates:
    """V^ = eta^ - 1 = (mean(K^2) - mean(K)^2) / mean(K)^2 (Eq. 3) per column, SE of eta^.

    Computed as the biased sample variance over mean(K)^2 (not eta^ - 1) so that no cancellation
    of two O(1) numbers loses the O(1/n) signal."""
    k = _columns(samples, labels, "normalised_variance")
    _, se, m1 = _moments(k, "normalised_variance")
    v = k.var(axis=0) / (m1 * m1)
    return Estimates(v, (1.0 + v) * se, np.full(len(labels), k.shape[0] - 1.0), tuple(labels), k.shape[0])


def eta_bootstrap(
    samples: np.ndarray, seed: int, label: str = "eta", n_resamples: int = 999, level: float = 0.95
) -> tuple[Estimates, tuple[float, float]]:
    """eta^ with a BCa bootstrap interval (``scipy.stats.bootstrap``) and the bootstrap standard error.

    Returns (Estimates with the bootstrap SE and dof = inf, (low, high) BCa interval at ``level``).
    Distribution-free check of the delta method; costs ``n_resamples`` passes over the draws."""
    k = _columns(samples, (label,), "eta_bootstrap")[:, 0]
    if not 0 < level < 1:
        raise ValueError(f"eta_bootstrap.level must be in (0, 1), got {level!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 10:
        raise ValueError(f"eta_bootstrap.n_resamples must be an integer >= 10, got {n_resamples!r}")

    def statistic(x: np.ndarray, axis: int = -1) -> np.ndarray:
        return (x * x).mean(axis=axis) / x.mean(axis=axis) ** 2

    result = bootstrap(
        (k,), statistic, n_resamples=n_resamples, confidence_level=level, method="BCa",
        random_state=np.random.default_rng(seed), vectorized=True,
    )
    estimate = float(statistic(k))
    interval = (float(result.confidence_interval.low), float(result.confidence_interval.high))
    return Estimates.single(label, estimate, float(result.standard_error), np.inf, len(k)), interval


def weighted_fit(
    design: np.ndarray, points: Estimates, degree: int = 1, labels: Sequence[str] | None = None
) -> Estimates:
    """Polynomial y = b_0 + b_1 x + ... + b_d x^d fitted to per-point estimates y_i (known SE s_i).

    statsmodels ``WLS`` with weights 1 / s_i^2. Covariance: the known-variance one (scale fixed at 1,
    normal, dof = inf) unless the weighted residual mean square exceeds 1 (lack of fit, e.g. a
    curved law fitted by a line), then the estimated-scale one with t(n - d - 1). Returns the d + 1
    coefficients (labels default ``b0..bd``); n_samples is the points' total draw count."""
    x = np.asarray(design, dtype=np.float64).ravel()
    if x.shape != points.estimate.shape:
        raise ValueError(f"weighted_fit.design needs one value per point, got {x.shape} for {points.estimate.shape}")
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise ValueError(f"weighted_fit.degree must be an integer >= 1, got {degree!r}")
    if len(x) < degree + 2:
        raise ValueError(f"weighted_fit needs at least degree + 2 = {degree + 2} points, got {len(x)}")
    if not np.isfinite(x).all():
        raise ValueError("weighted_fit.design contains NaN or inf")
    if len(np.unique(x)) <= degree:
        raise ValueError(f"weighted_fit.design needs at least {degree + 1} distinct values")
    if not (points.standard_error > 0).all():
        raise ValueError("weighted_fit needs every point's standard error > 0")
    names = tuple(labels) if labels is not None else tuple(f"b{j}" for j in range(degree + 1))
    if len(names) != degree + 1:
        raise ValueError(f"weighted_fit.labels needs {degree + 1} names, got {len(names)}")
    matrix = np.vander(x, degree + 1, increasing=True)
    model = sm.WLS(points.estimate, matrix, weights=1.0 / points.standard_error**2)
    fitted, known = model.fit(), model.fit(cov_type="fixed scale")
    if fitted.scale > 1.0:
        return Estimates(fitted.params, fitted.bse, np.full(degree + 1, fitted.df_resid), names, points.n_samples)
    return Estimates(known.params, known.bse, np.full(degree + 1, np.inf), names, points.n_samples)


def bootstrap_statistic(
    draws: Sequence[np.ndarray], statistic, seed: int, label: str, n_resamples: int = 200
) -> Estimates:
    """A statistic of several independent draw sets (e.g. one (B, c) array per depth), with a bootstrap
    SE that resamples draws within each set (``scipy.stats.bootstrap``, percentile method, the sets
    resampled independently). ``statistic(*arrays) -> float``. dof = inf (normal approximation)."""
    if not draws:
        raise ValueError("bootstrap_statistic.draws needs at least one draw set")
    arrays = [np.asarray(d, dtype=np.float64) for d in draws]
    if any(a.ndim == 0 or a.shape[0] < 3 or not np.isfinite(a).all() for a in arrays):
        raise ValueError("bootstrap_statistic.draws must be finite arrays with at least 3 draws each")
    indices = tuple(np.arange(a.shape[0]) for a in arrays)

    def on_indices(*picked: np.ndarray) -> float:
        return float(statistic(*(a[i.astype(int)] for a, i in zip(arrays, picked, strict=True))))

    result = bootstrap(
        indices, on_indices, n_resamples=n_resamples, method="percentile", paired=False,
        random_state=np.random.default_rng(seed), vectorized=False,
    )
    return Estimates.single(
        label, on_indices(*indices), float(result.standard_error), np.inf, sum(a.shape[0] for a in arrays)
    )


def kernel_entries(
    specs, inputs, mc, entry: tuple[int, int] = (0, 0), tag: str = "", entries: Sequence[tuple[int, int]] | None = None
) -> list[np.ndarray]:
    """Per spec, the B draws of K(x_i, x_j) (``entry`` = (i, j)) from ``estimators.sample_ntk``, each spec
    seeded by ``derive_seed(mc.seed, tag, index)`` (float64). ``mc`` is the claim's ``MonteCarlo``.
    With ``entries`` (several (i, j)), each array is (B, E): the E entries of the same networks."""
    from estimators.ntk import sample_ntk
    from estimators.sampling import derive_seed

    pairs = [entry] if entries is None else list(entries)
    rows, cols = [p[0] for p in pairs], [p[1] for p in pairs]
    out = []
    for index, spec in enumerate(specs):
        gram = sample_ntk(spec, inputs, mc.n_draws, derive_seed(mc.seed, tag, index), sampler=mc.sampler,
                          device=mc.device).gram
        values = gram[:, rows, cols].numpy()
        out.append(values[:, 0] if entries is None else values)
    return out


def line_deviations(design: np.ndarray, points: Estimates, labels: Sequence[str]) -> Estimates:
    """How far three independent points (t_0 < t_1 < t_2, y_i) are from a line y = C t through 0.

    With the chord slopes s_1 = (y_1 - y_0) / (t_1 - t_0) and s_2 = (y_2 - y_1) / (t_2 - t_1):
    - relative intercept a / (s_1 t_2), a = y_0 - s_1 t_0 the lower chord's value at t = 0: the
      offset as a fraction of the rise C t_2 over the range;
    - bend s_2 / s_1 - 1: the relative change of the local slope from the lower to the upper half.
    Both are 0 for y = C t; SEs by ``delta_method`` (normal). Used for Littwin et al.'s Eq. 4
    (log eta linear in L/n) and its false twin (V linear in L/n)."""
    t = np.asarray(design, dtype=np.float64).ravel()
    if t.shape != (3,) or points.estimate.shape != (3,) or not (t[0] < t[1] < t[2]):
        raise ValueError(f"line_deviations needs three points with increasing design values, got {t.tolist()}")

    def deviations(y: np.ndarray) -> np.ndarray:
        lower, upper = (y[1] - y[0]) / (t[1] - t[0]), (y[2] - y[1]) / (t[2] - t[1])
        return np.array([(y[0] - lower * t[0]) / (lower * t[2]), upper / lower - 1.0])

    return delta_method(deviations, points, labels)


def log_eta_points(kernels: Sequence[np.ndarray], labels: Sequence[str]) -> Estimates:
    """log eta^ with delta-method SEs for several independent draw sets (one comparison each)."""
    if len(kernels) != len(labels):
        raise ValueError(f"log_eta_points needs one label per draw set, got {len(kernels)} and {len(labels)}")
    return Estimates.concat([log_eta(k, (label,)) for k, label in zip(kernels, labels, strict=True)])


def slope(design: np.ndarray, points: Estimates, label: str, scale: float = 1.0) -> Estimates:
    """The slope b_1 of ``weighted_fit`` through ``scale`` times the points (e.g. n log eta), alone."""
    scaled = Estimates(scale * points.estimate, scale * points.standard_error, points.dof, points.labels,
                       points.n_samples)
    fit = weighted_fit(design, scaled)
    return Estimates.single(label, fit.estimate[1], fit.standard_error[1], fit.dof[1], fit.n_samples)


def chord_slope(design: np.ndarray, points: Estimates, label: str, scale: float = 1.0) -> Estimates:
    """scale * (y_last - y_first) / (x_last - x_first) for independent points, SE by the delta method
    (normal, dof = inf): the average rate over the range, free of any line's lack of fit (a convex
    law such as exp(c m / n) makes a WLS line's residuals, and so its t interval, large)."""
    x = np.asarray(design, dtype=np.float64).ravel()
    if x.shape != points.estimate.shape or len(x) < 2 or x[-1] == x[0]:
        raise ValueError("chord_slope.design needs one value per point and distinct end values")
    run = x[-1] - x[0]
    estimate = scale * (points.estimate[-1] - points.estimate[0]) / run
    se = abs(scale) * float(np.hypot(points.standard_error[-1], points.standard_error[0])) / abs(run)
    return Estimates.single(label, float(estimate), se, np.inf, points.n_samples)


def delta_method(
    function: Callable[[np.ndarray], np.ndarray], points: Estimates, labels: Sequence[str]
) -> Estimates:
    """g(y) for a smooth g of independent estimates y (e.g. log eta at three depths), SEs by the delta
    method: Cov g = J diag(se^2) J^T, J the Jacobian of g at y by central differences (step 1e-6 of
    max(1, |y_i|); relative error ~1e-9 for the smooth rational functions of a few points used here).
    Normal approximation (dof = inf); the coverage of each use is checked in tests/engine/test_moments.py."""
    y = np.asarray(points.estimate, dtype=np.float64)
    value = np.atleast_1d(np.asarray(function(y), dtype=np.float64))
    if value.shape != (len(labels),):
        raise ValueError(f"delta_method.function must return {len(labels)} values, got shape {value.shape}")
    jacobian = np.empty((len(value), len(y)))
    for i in range(len(y)):
        step = 1e-6 * max(1.0, abs(y[i]))
        up, down = y.copy(), y.copy()
        up[i] += step
        down[i] -= step
        jacobian[:, i] = (np.asarray(function(up)) - np.asarray(function(down))) / (2 * step)
    covariance = jacobian @ np.diag(points.standard_error**2) @ jacobian.T
    return Estimates(value, np.sqrt(np.diag(covariance)), np.inf, tuple(labels), points.n_samples)
