"""Statistics that turn Monte Carlo draws into ``Estimates`` (estimate, standard error, dof)."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from engine.intervals import Estimates


def ols_slope(x: np.ndarray, y: np.ndarray, label: str) -> Estimates:
    """Slope of the ordinary least-squares line y = a + b x (statsmodels ``OLS``), with its classical
    standard error and n - 2 degrees of freedom. Rows are independent draws (replicates at a
    design point are separate rows). Scaling laws: pass log width and log quantity."""
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"ols_slope needs x and y of one length, got {x.shape} and {y.shape}")
    if len(x) < 3:
        raise ValueError(f"ols_slope needs at least 3 points, got {len(x)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("ols_slope got NaN or inf (log of a zero or negative quantity?)")
    if np.ptp(x) == 0:
        raise ValueError("ols_slope needs at least two distinct x values")
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    return Estimates.single(label, float(fit.params[1]), float(fit.bse[1]), float(fit.df_resid), len(x))
