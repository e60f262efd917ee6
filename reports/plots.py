"""Inline SVG figures for a claim record (matplotlib, Agg): estimates with intervals vs the prediction.

Generic over every rule: comparisons are grouped into panels by the part of their label after
``": "`` (SameLaw's ``KS``/``mean``/``variance``; one panel when labels have no such suffix), series
by the part before it. The x-axis is a numeric example parameter that varies across examples
(``reports.evidence.varying_parameter``), else the example index. The prediction is a dashed line, the
support region (``reports.evidence.support_region``) a shaded band, the decisive comparison is ringed.
A panel whose labels contain "slope" also gets a log-log panel: the power laws x^b implied by the
fitted slopes (normalised to 1 at x = 1, band = the decisive slope's interval) against x^prediction.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from reports.evidence import interval, number, support_region, varying_parameter

PANEL_HEIGHT_IN = 2.4
FIGURE_WIDTH_IN = 7.6
MAX_LEGEND_SERIES = 12


def _split(label: str) -> tuple[str, str]:
    """(series, panel) of a comparison label: ``"K(x1,x1): variance"`` -> ("K(x1,x1)", "variance")."""
    if ": " in label:
        series, panel = label.rsplit(": ", 1)
        return series, panel
    return label, ""


def _points(record: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """One dict per comparison with x position, panel and series; and the x-axis name."""
    examples = record.get("examples", [])
    parameter = varying_parameter([e.get("example") for e in examples])
    xs = parameter[1] if parameter else list(range(len(examples)))
    x_name = f"example parameter {parameter[0]}" if parameter else "example index"
    decisive_example = record.get("decisive_example")
    points = []
    for index, (example, x) in enumerate(zip(examples, xs, strict=True)):
        for comparison in example.get("comparisons", []):
            series, panel = _split(str(comparison["label"]))
            low, high = interval(comparison.get("ci"))
            points.append(
                {
                    "x": float(x),
                    "series": series,
                    "panel": panel,
                    "label": comparison["label"],
                    "estimate": number(comparison["estimate"]),
                    "low": low,
                    "high": high,
                    "prediction": number(comparison["prediction"]),
                    "decisive": comparison["label"] == record.get("decisive")
                    and (decisive_example is None or decisive_example == index),
                }
            )
    return points, x_name


def _limits(values: list[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return (-1.0, 1.0)
    low, high = min(finite), max(finite)
    pad = 0.08 * (high - low) if high > low else 0.05 * max(1.0, abs(high))
    return (low - pad, high + pad)


def _draw_panel(axes: Any, points: list[dict[str, Any]], rule_spec: Any, title: str, x_name: str) -> None:
    """Estimates with intervals per series, the prediction line(s) and the support band."""
    series_names = list(dict.fromkeys(p["series"] for p in points))
    xs = sorted({p["x"] for p in points})
    spacing = min(np.diff(xs)) if len(xs) > 1 else 1.0
    width = 0.6 * spacing / max(1, len(series_names))
    colours = plt.get_cmap("tab10")
    predictions = {p["prediction"] for p in points}
    regions = {support_region(rule_spec, p["label"], p["prediction"]) for p in points}
    values = [v for p in points for v in (p["estimate"], p["low"], p["high"], p["prediction"])]
    for region in regions:
        if region:
            values += [end for end in region if math.isfinite(end)]
    y_low, y_high = _limits(values)
    for region in regions:
        if region:
            axes.axhspan(max(region[0], y_low), min(region[1], y_high), color="#2a9d8f", alpha=0.15, lw=0)
    for prediction in predictions:
        axes.axhline(prediction, color="#264653", ls="--", lw=1.2)
    for s, name in enumerate(series_names):
        mine = [p for p in points if p["series"] == name]
        x = np.array([p["x"] for p in mine]) + (s - (len(series_names) - 1) / 2) * width
        y = np.array([p["estimate"] for p in mine])
        low = np.array([p["low"] for p in mine])
        high = np.array([p["high"] for p in mine])
        colour = colours(s % 10)
        # an interval end at +-inf (one-sided region, unresolved Fieller set) is drawn to the axis edge
        has_interval = ~(np.isnan(low) | np.isnan(high))
        if has_interval.any():
            axes.vlines(
                x[has_interval], np.clip(low[has_interval], y_low, y_high), np.clip(high[has_interval], y_low, y_high),
                color=colour, lw=1,
            )  # fmt: skip
        axes.plot(x, y, "o", ms=3.5, color=colour, label=name)
        if (~has_interval).any():  # no interval (e.g. a KS statistic): hollow marker
            axes.plot(x[~has_interval], y[~has_interval], "o", ms=3.5, mfc="white", color=colour)
        for p, xp in zip(mine, x, strict=True):
            if p["decisive"]:
                axes.plot([xp], [p["estimate"]], "o", ms=11, mfc="none", mec="#e63946", mew=1.6)
    axes.set_ylim(y_low, y_high)
    axes.set_title(title, fontsize=9, loc="left")
    axes.set_xlabel(x_name, fontsize=8)
    axes.tick_params(labelsize=7)
    if 1 < len(series_names) <= MAX_LEGEND_SERIES:
        axes.legend(fontsize=6, ncol=min(6, len(series_names)), loc="best", frameon=False)


def _draw_slopes(axes: Any, points: list[dict[str, Any]]) -> None:
    """Power laws x^b for the fitted slopes b vs x^prediction on log-log axes (normalised at x = 1)."""
    x = np.logspace(0, 1.5, 50)
    decisive = next((p for p in points if p["decisive"]), points[0])
    for p in points:
        axes.loglog(x, x ** p["estimate"], color="#8d99ae", lw=0.8, alpha=0.7)
    if math.isfinite(decisive["low"]) and math.isfinite(decisive["high"]):
        axes.fill_between(x, x ** decisive["low"], x ** decisive["high"], color="#e63946", alpha=0.15, lw=0)
    axes.loglog(x, x ** decisive["estimate"], color="#e63946", lw=1.4, label=f"fitted slope {decisive['estimate']:.3g}")
    for prediction in {p["prediction"] for p in points}:
        axes.loglog(x, x**prediction, color="#264653", ls="--", lw=1.4, label=f"predicted slope {prediction:g}")
    axes.set_title("scaling laws implied by the fitted slopes (log-log, normalised at x = 1)", fontsize=9, loc="left")
    axes.set_xlabel("x / x_0", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, frameon=False)


def claim_figure(record: Mapping[str, Any]) -> str:
    """The claim's figure as inline ``<svg>`` markup ('' when the record has no comparisons)."""
    points, x_name = _points(record)
    if not points:
        return ""
    panels = list(dict.fromkeys(p["panel"] for p in points))
    slope_panels = [name for name in panels if any("slope" in p["label"].lower() for p in points if p["panel"] == name)]
    n_axes = len(panels) + len(slope_panels)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": str(record.get("id", "claim"))}):
        figure, axes = plt.subplots(n_axes, 1, figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * n_axes), squeeze=False)
        slot = 0
        for name in panels:
            mine = [p for p in points if p["panel"] == name]
            title = f"{name or 'estimate'} per example: estimate and interval vs prediction (dashed), support region"
            _draw_panel(axes[slot, 0], mine, record.get("rule_spec"), title, x_name)
            slot += 1
            if name in slope_panels:
                _draw_slopes(axes[slot, 0], [p for p in mine if "slope" in p["label"].lower()])
                slot += 1
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
        plt.close(figure)
    markup = buffer.getvalue()
    return markup[markup.index("<svg") :]
