"""Inline SVG figures for a claim record (matplotlib, Agg): estimates with intervals vs the prediction.

Generic over every rule: comparisons are grouped into panels by the part of their label after
``": "`` (SameLaw's ``KS``/``AD``/``mean``/``variance``; one panel when labels have no such suffix),
series by the part before it. The x-axis is a numeric example parameter that differs between all
examples (``reports.evidence.varying_parameter``), else the example index. The prediction is a dashed
line, the support region (``reports.evidence.support_region``) a shaded band, the decisive comparison
is ringed.

Scaling laws: when the claim's quantity is a log-log slope (the rule's quantity reads "slope of log Y
on log X", or a label "d log Y / d log X"), a second panel draws on log-log axes the power laws
Y/Y(x_0) = (x/x_0)^b implied by every example's fitted slope b (grey; the decisive one red with its
interval as a band) against the predicted slope (dashed) and the support region of slopes (shaded),
over the X values the decisive example swept (its ``widths``/``depths`` list) or, without one, a decade
and a half. The ledger keeps the fitted slopes and their intervals, not the points of each fit, so the
panel shows the fitted laws, not the raw points.

Calibration (``calibration_figure``, from a power table): per claim the observed rate of its required
verdict over the seeds, with its Clopper-Pearson interval, against its predicted power (mean over the
seeds, ``engine.power``); a calibrated prediction sits on the diagonal within the intervals. Two panels:
the whole square and the top corner [0.8, 1] x [0.8, 1] where most claims sit; the power target dotted.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from reports.evidence import interval, number, support_region, sweep, varying_parameter

PANEL_HEIGHT_IN = 2.4
FIGURE_WIDTH_IN = 7.6
MAX_LEGEND_SERIES = 12
LOG_LOG_QUANTITY = re.compile(r"slope of log\b.*\bon log (\w+)", re.IGNORECASE)
LOG_LOG_LABEL = re.compile(r"d\s*log\b.*/\s*d\s*log\s+(\w+)", re.IGNORECASE)
VARIABLE_NAMES = {"l": "depth", "m": "width", "n": "width"}


def log_log_variable(record: Mapping[str, Any]) -> str | None:
    """The X of a claim whose quantity is the slope of log Y on log X ("width", "depth"); else None."""
    quantity = str((record.get("rule_spec") or {}).get("quantity", ""))
    found = LOG_LOG_QUANTITY.search(quantity)
    if not found:
        labels = (str(c.get("label", "")) for e in record.get("examples", []) for c in e.get("comparisons", []))
        found = next((m for m in map(LOG_LOG_LABEL.search, labels) if m), None)
    if not found:
        return None
    variable = found.group(1).lower()
    return VARIABLE_NAMES.get(variable, variable)


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
    # series sharing an x are spread side by side (dodged) over 60% of the spacing; a lone one stays put
    at_x = {x: [name for name in series_names if any(p["x"] == x and p["series"] == name for p in points)] for x in xs}
    width = 0.6 * spacing / max(1, max(len(names) for names in at_x.values()))

    def dodge(point: dict[str, Any]) -> float:
        names = at_x[point["x"]]
        return point["x"] + (names.index(point["series"]) - (len(names) - 1) / 2) * width

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
        x = np.array([dodge(p) for p in mine])
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


def _draw_scaling_laws(axes: Any, points: list[dict[str, Any]], record: Mapping[str, Any], variable: str) -> None:
    """Power laws (x/x_0)^b for the fitted slopes b vs the predicted slope and its support region (log-log)."""
    decisive = next((p for p in points if p["decisive"]), points[0])
    examples = record.get("examples", [])
    index = record.get("decisive_example")
    swept = (
        sweep(examples[index].get("example"), variable) if isinstance(index, int) and index < len(examples) else None
    )
    x0, x1 = (min(swept), max(swept)) if swept else (1.0, 10**1.5)
    x = np.geomspace(x0, x1, 60)
    ratio = x / x0
    for p in points:
        if not p["decisive"]:
            axes.loglog(x, ratio ** p["estimate"], color="#8d99ae", lw=0.8, alpha=0.7)
    region = support_region(record.get("rule_spec"), decisive["label"], decisive["prediction"])
    if region:
        low, high = (max(region[0], -20.0), min(region[1], 20.0))  # an unbounded side is drawn to a steep slope
        axes.fill_between(
            x, ratio**low, ratio**high, color="#2a9d8f", alpha=0.12, lw=0, label="support region of slopes"
        )
    if math.isfinite(decisive["low"]) and math.isfinite(decisive["high"]):
        axes.fill_between(x, ratio ** decisive["low"], ratio ** decisive["high"], color="#e63946", alpha=0.18, lw=0)
    fitted = f"fitted slope {decisive['estimate']:.3g} [{decisive['low']:.3g}, {decisive['high']:.3g}]"
    axes.loglog(x, ratio ** decisive["estimate"], color="#e63946", lw=1.6, label=fitted)
    for prediction in sorted({p["prediction"] for p in points}):
        axes.loglog(x, ratio**prediction, color="#264653", ls="--", lw=1.4, label=f"predicted slope {prediction:g}")
    values = np.concatenate([ratio ** p["estimate"] for p in points] + [ratio ** decisive["prediction"]])
    axes.set_ylim(values.min() / 1.3, values.max() * 1.3)
    axes.set_xlim(x0, x1)
    axes.set_title(
        f"scaling law on log-log axes: relative size vs {variable} implied by the fitted slopes", fontsize=9, loc="left"
    )
    axes.set_xlabel(
        f"{variable} (swept by the decisive example)" if swept else f"{variable} / {variable}_0", fontsize=8
    )
    axes.set_ylabel("relative to the first", fontsize=7)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, frameon=False)


def claim_figure(record: Mapping[str, Any]) -> str:
    """The claim's figure as inline ``<svg>`` markup ('' when the record has no comparisons)."""
    points, x_name = _points(record)
    if not points:
        return ""
    panels = list(dict.fromkeys(p["panel"] for p in points))
    variable = log_log_variable(record)
    n_axes = len(panels) + (len(panels) if variable else 0)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": str(record.get("id", "claim"))}):
        figure, axes = plt.subplots(n_axes, 1, figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * n_axes), squeeze=False)
        slot = 0
        for name in panels:
            mine = [p for p in points if p["panel"] == name]
            title = f"{name or 'estimate'} per example: estimate and interval vs prediction (dashed), support region"
            _draw_panel(axes[slot, 0], mine, record.get("rule_spec"), title, x_name)
            slot += 1
            if variable:
                _draw_scaling_laws(axes[slot, 0], mine, record, variable)
                slot += 1
        figure.tight_layout()
        return _svg(figure)


CALIBRATION_ZOOM = 0.8


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    markup = buffer.getvalue()
    return markup[markup.index("<svg") :]


def calibration_points(power: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The power table's claims that have a predicted power: id, twin, predicted, observed, CP interval."""
    points = []
    for row in power.get("claims", []):
        predicted = row.get("predicted_power")
        if predicted is None or not math.isfinite(number(predicted)):
            continue
        low, high = interval(row.get("ci"))
        points.append({"id": row["id"], "twin": bool(row.get("twin_of")), "predicted": number(predicted),
                       "observed": number(row["rate"]), "low": low, "high": high})  # fmt: skip
    return points


def calibration_figure(power: Mapping[str, Any]) -> str:
    """Predicted power vs observed rate of the required verdict per claim, as inline ``<svg>`` ('' when no
    claim of the power table has a predicted power). Claims whose interval misses the diagonal are named."""
    points = calibration_points(power)
    if not points:
        return ""
    run = power.get("run", {})
    target = number(run.get("target", 0.95))
    confidence = number(run.get("confidence", 0.95))
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "calibration"}):
        figure, axes = plt.subplots(1, 2, figsize=(FIGURE_WIDTH_IN, FIGURE_WIDTH_IN / 2 + 0.4))
        for panel, low_end in zip(axes, (0.0, CALIBRATION_ZOOM), strict=True):
            pad = 0.02 * (1 - low_end)
            panel.plot([low_end, 1], [low_end, 1], color="#264653", ls="--", lw=1, label="observed = predicted")
            panel.axvline(target, color="#8d99ae", ls=":", lw=1)
            panel.axhline(target, color="#8d99ae", ls=":", lw=1, label=f"power target {target:g}")
            for twin, colour, name in ((False, "#2a9d8f", "true claims"), (True, "#e63946", "false twins")):
                mine = [p for p in points if p["twin"] is twin]
                if not mine:
                    continue
                x = np.array([p["predicted"] for p in mine])
                y = np.array([p["observed"] for p in mine])
                below = y - np.array([p["low"] for p in mine])
                above = np.array([p["high"] for p in mine]) - y
                panel.errorbar(x, y, yerr=[below, above], fmt="o", ms=3.5, lw=0.8, color=colour, alpha=0.8,
                               capsize=0, label=f"{name} ({len(mine)})")  # fmt: skip
            for p in points:
                inside = low_end - pad <= p["predicted"] and low_end - pad <= p["observed"]
                if inside and not p["low"] <= p["predicted"] <= p["high"]:  # the interval misses the diagonal
                    panel.annotate(p["id"], (p["predicted"], p["observed"]), fontsize=5.5, xytext=(3, -3),
                                   textcoords="offset points", color="#1d2731")  # fmt: skip
            panel.set_xlim(low_end - pad, 1 + pad)
            panel.set_ylim(low_end - pad, 1 + pad)
            panel.set_aspect("equal")
            panel.set_xlabel("predicted power (mean over seeds)", fontsize=8)
            panel.set_ylabel(f"observed rate [{confidence:.0%} Clopper-Pearson]", fontsize=8)
            panel.tick_params(labelsize=7)
            title = "all claims" if low_end == 0 else f"zoom: [{low_end:g}, 1]"
            panel.set_title(f"calibration, {title}", fontsize=9, loc="left")
        axes[0].legend(fontsize=6.5, frameon=False, loc="upper left")
        figure.tight_layout()
        return _svg(figure)
