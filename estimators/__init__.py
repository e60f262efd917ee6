"""Batched Monte Carlo estimators of f, the empirical NTK and per-matrix Jacobian norms."""

from estimators.device import resolve_device
from estimators.ntk import NTKDraws, sample_ntk
from estimators.sampling import draw_weights

__all__ = ["NTKDraws", "draw_weights", "resolve_device", "sample_ntk"]
# estimators.infinite_width (analytic NNGP/NTK of compositions), estimators.module_ntk (any nn.Module) and
# estimators.memory (the preflight) are imported by name: they are not needed for sample_ntk.
