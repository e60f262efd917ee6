"""The HTML verification report: one self-contained page (inline CSS and SVG, no scripts, no network).

Layout: run summary -> summary tables (true claims, false twins, reviewers' questions) -> power table
(when given: observed rates beside predicted power, the calibration figure, the suite-wide error rate)
-> one section per claim (statement, citation, rule in words, predicted power, figure, examples with
their evidence, seed and a one-line reproduce command), true claims first, twins in their own section,
then the claims answering reviewers' questions (ids with ``.review.``, twins included) -> environment.

Predicted power (``engine.power``, the ledger record's ``predicted_power``) is shown for every claim, "–"
for a ledger written before it was recorded; below the power target (0.95) it is flagged (⚑).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.power import POWER_TARGET
from reports.evidence import (
    describe_example,
    interval,
    is_review,
    number,
    power_flagged,
    predicted_power,
    region_text,
    support_region,
    wanted_verdict,
)
from reports.plots import calibration_figure, claim_figure

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;
color:#1d2731;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #264653;padding-bottom:.2em;margin-top:2em}
h3{margin-bottom:.3em} table{border-collapse:collapse;margin:.5em 0;font-size:.86em}
th,td{border:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f1f4f7} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:.1em .55em;border-radius:.8em;font-size:.85em;font-weight:600;color:#fff}
.supported{background:#2a9d8f} .refuted{background:#e63946} .inconclusive{background:#e9c46a;color:#1d2731}
.ok{color:#2a7d3a;font-weight:600} .bad{color:#c1121f;font-weight:600}
.claim{border:1px solid #d0d7de;border-radius:6px;padding:.6em 1.2em;margin:1.2em 0}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
tr.decisive td{background:#fff3cd} .muted{color:#57606a} td.num .muted{white-space:normal}
figure{margin:.5em 0} svg{width:100%;height:auto}
details{margin:.3em 0} summary{cursor:pointer}
.flag{color:#b35c00;font-weight:600} .suite{background:#f6f8fa;border-left:4px solid #264653;padding:.4em .8em}
"""


REVIEWS_NOTE = (
    '<p class="muted">Claims written to answer reviewers\' questions (ids with <code>.review.</code>), each with '
    "its false twin (twin of ...), which must be refuted.</p>"
)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a table: 4 significant digits, 'inf', '–' for NaN/None."""
    x = number(value) if not isinstance(value, int | float) else float(value)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}"


def fmt_ci(ci: Sequence[Any] | None) -> str:
    low, high = interval(ci)
    return "–" if math.isnan(low) and math.isnan(high) else f"[{fmt(low)}, {fmt(high)}]"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def badge(verdict: str) -> str:
    return f'<span class="badge {_e(verdict)}">{_e(verdict)}</span>'


def anchor(claim_id: str) -> str:
    return "claim-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in claim_id)


def against(record: Mapping[str, Any]) -> str:
    """What the decisive estimate is tested against: the prediction and, for a region rule, the region."""
    prediction = number(record.get("prediction"))
    region = region_text(support_region(record.get("rule_spec"), str(record.get("decisive", "")), prediction))
    return f"{fmt(prediction)}" + (f"; support region {region}" if region else "")


def expectation(record: Mapping[str, Any]) -> str:
    wanted = wanted_verdict(record)
    if record.get("verdict") == wanted:
        return f'<span class="ok">as required ({wanted})</span>'
    return f'<span class="bad">required: {wanted}</span>'


def power_text(power: Any) -> str:
    """A power (a ledger number) to 3 decimals, rounded down: 0.9499 shows as 0.949, never as a 0.950 that
    would meet 0.95; "–" for none."""
    x = number(power)
    return f"{math.floor(x * 1000) / 1000:.3f}" if math.isfinite(x) else "–"


def power_cell(record: Mapping[str, Any], target: float = POWER_TARGET) -> str:
    """A predicted power for a table, flagged (⚑) when below ``target``; "–" when absent."""
    power = predicted_power(record)
    if power is None:
        return '<span class="muted">–</span>'
    if power < target:
        return f'<span class="flag" title="predicted power below {fmt(target)}">{power_text(power)} ⚑</span>'
    return power_text(power)


def predicted_power_text(record: Mapping[str, Any]) -> str:
    """The claim section's predicted-power sentence: value, flag, and the comparison that limits it."""
    power = predicted_power(record)
    if power is None:
        return "<p><b>Predicted power.</b> – (not in this ledger: written before predicted power was recorded).</p>"
    detail = record.get("predicted_power_detail") or {}
    limiting = detail.get("limiting") or {}
    parts = [f"<b>Predicted power</b> of the required verdict ({_e(wanted_verdict(record))}): {power_cell(record)}"]
    if "supported" in detail and "refuted" in detail:
        parts.append(f"P(supported) {power_text(detail['supported'])}, P(refuted) {power_text(detail['refuted'])}")
    if limiting.get("label") is not None:
        parts.append(
            f"limited by {_e(limiting['label'])} in example {_e(limiting.get('example'))} "
            f"(power {power_text(limiting.get('power'))})"
        )
    flag = (
        f' <span class="flag">Below the power target {fmt(POWER_TARGET)}: the Monte Carlo size should grow.</span>'
        if power_flagged(record)
        else ""
    )
    return (
        "<p>" + "; ".join(parts) + '. <span class="muted">The power of this claim\'s own tests at its own '
        "estimates (engine.power).</span>" + flag + "</p>"
    )


def summary_table(records: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for r in records:
        twin = f'<br><span class="muted">twin of {_e(r["twin_of"])}</span>' if r.get("twin_of") else ""
        rows.append(
            "<tr>"
            f'<td><a href="#{anchor(r["id"])}">{_e(r["id"])}</a>{twin}</td>'
            f"<td>{_e(r.get('citation', ''))}</td>"
            f"<td>{badge(r['verdict'])}<br>{expectation(r)}</td>"
            f'<td class="num">{fmt(r.get("estimate"))} {fmt_ci(r.get("ci"))}<br>'
            f'<span class="muted">{_e(r.get("decisive", ""))} vs {_e(against(r))}</span></td>'
            f'<td class="num">{int(r.get("n_samples", 0)):,}<br><span class="muted">'
            f"{plural(len(r.get('examples', [])), 'example')}</span></td>"
            f'<td class="num">{power_cell(r)}</td>'
            f'<td class="num">{fmt(r.get("seconds"), 3)} s</td>'
            "</tr>"
        )
    head = (
        "<tr><th>claim</th><th>paper</th><th>verdict</th><th>decisive estimate [CI] vs prediction</th>"
        "<th>samples</th><th>predicted power</th><th>time</th></tr>"
    )
    if not rows:
        return '<p class="muted">none in this ledger</p>'
    return f"<table>{head}{''.join(rows)}</table>"


def examples_html(record: Mapping[str, Any]) -> str:
    """Per example: a collapsible block with its parameters, seed and comparison table."""
    blocks = []
    decisive_example = record.get("decisive_example")
    for index, example in enumerate(record.get("examples", [])):
        comparisons = example.get("comparisons", [])
        rows = []
        for c in comparisons:
            decisive = c["label"] == record.get("decisive") and decisive_example in (None, index)
            rows.append(
                f'<tr class="{"decisive" if decisive else ""}"><td>{_e(c["label"])}</td>'
                f'<td class="num">{fmt(c.get("estimate"))}</td><td class="num">{fmt_ci(c.get("ci"))}</td>'
                f'<td class="num">{fmt(c.get("prediction"))}</td><td class="num">{fmt(c.get("statistic"), 3)}</td>'
                f'<td class="num">{fmt(c.get("p_refute"), 3)}</td><td class="num">{fmt(c.get("p_equivalence"), 3)}</td>'
                f'<td class="num">{int(c.get("n_samples", 0)):,}</td></tr>'
            )
        worst = max((abs(number(c.get("statistic", 0))) for c in comparisons), default=math.nan)
        head = (
            "<tr><th>comparison</th><th>estimate</th><th>CI</th><th>prediction</th><th>t</th>"
            "<th>p(refute)</th><th>p(equivalence)</th><th>n</th></tr>"
        )
        blocks.append(
            f"<details><summary>example {index}: {_e(describe_example(example.get('example')))} "
            f'<span class="muted">(seed {_e(example.get("seed"))}, max |t| {fmt(worst, 3)})</span></summary>'
            f"<pre>{_e(example.get('example'))}</pre><table>{head}{''.join(rows)}</table></details>"
        )
    return "".join(blocks)


def claim_section(record: Mapping[str, Any]) -> str:
    figure = claim_figure(record)
    return (
        f'<section class="claim" id="{anchor(record["id"])}" data-claim-id="{_e(record["id"])}">'
        f"<h3>{_e(record['id'])} {badge(record['verdict'])} {expectation(record)}</h3>"
        f"<p><b>Statement.</b> {_e(record.get('statement', ''))}</p>"
        f"<p><b>Source.</b> {_e(record.get('citation', ''))}</p>"
        f"<p><b>Decision rule.</b> {_e(record.get('rule', ''))}; family-wise alpha = {fmt(record.get('alpha'))} "
        f"over {_e(record.get('n_comparisons', '?'))} comparisons.</p>"
        f"<p><b>Decisive comparison.</b> {_e(record.get('decisive', ''))}: {fmt(record.get('estimate'))} "
        f"{fmt_ci(record.get('ci'))} vs prediction {_e(against(record))} "
        f"({int(record.get('n_samples', 0)):,} samples, {fmt(record.get('seconds'), 3)} s, "
        f"budget {_e(record.get('budget', '?'))}).</p>"
        + predicted_power_text(record)
        + (f"<figure>{figure}</figure>" if figure else "")
        + f"<p><b>Examples drawn by Hypothesis</b> ({len(record.get('examples', []))}; decisive row highlighted):</p>"
        + examples_html(record)
        + f"<p><b>Claim seed</b> <code>{_e(record.get('seed'))}</code>. <b>Reproduce:</b></p>"
        f"<pre>{_e(record.get('reproduce', ''))}</pre></section>"
    )


def suite_block(suite: Mapping[str, Any] | None) -> str:
    """The power table's suite-wide error rate (``reports.power.suite_error_rates``) in words."""
    if not suite:
        return ""
    lines = []
    for key, what in (("any_true_refuted", "some true claim refuted"), ("any_twin_supported", "some twin supported")):
        m = suite.get(key)
        if m:
            lines.append(
                f"<li>{what} in <b>{m['count']}/{m['seeds']}</b> seeds ({plural(m['claims'], 'claim')} run under "
                f"every one of them): rate {fmt(m['rate'], 3)} {fmt_ci(m['ci'])}</li>"
            )
    lines.append(
        f"<li>bound when all {suite.get('true_claims', '?')} true claims are true: Bonferroni, the sum of their "
        f"alphas, {fmt(suite.get('bound_bonferroni'), 3)}; the union of their measured error rates "
        f"{fmt(suite.get('bound_from_rates'), 3)} (of the upper interval ends "
        f"{fmt(suite.get('bound_from_rate_intervals'), 3)})</li>"
    )
    return '<div class="suite"><p><b>Suite-wide error rate.</b></p><ul>' + "".join(lines) + "</ul></div>"


def power_table(power: Mapping[str, Any]) -> str:
    """The power table (see ``reports.power``): per claim the rate of its required verdict beside its
    predicted power, the calibration figure and the suite-wide error rate."""
    run = power.get("run", {})
    target = number(run.get("target", POWER_TARGET))
    rows = []
    for c in power.get("claims", []):
        error = c.get("error_rate") or {}
        counts = c["counts"]
        crashed = f"<br>{counts['crashed']} crashed" if counts.get("crashed") else ""
        rows.append(
            f"<tr><td>{_e(c['id'])}</td><td>{'twin' if c.get('twin_of') else 'true'}</td>"
            f'<td>{_e(c["wanted"])}</td><td class="num">{c["n_seeds"]}</td>'
            f'<td class="num">{counts.get("supported", 0)} / {counts.get("inconclusive", 0)} / '
            f"{counts.get('refuted', 0)}{crashed}</td>"
            f'<td class="num">{fmt(c["rate"], 3)} {fmt_ci(c["ci"])}</td>'
            f'<td class="num">{power_cell(c, target)}</td><td>{_e(c["status"])}</td>'
            f'<td class="num">{fmt(error.get("rate"), 3)} {fmt_ci(error.get("ci"))} vs alpha {fmt(c.get("alpha"))}</td>'
            f"<td>{_e(error.get('status', ''))}</td></tr>"
        )
    head = (
        "<tr><th>claim</th><th>kind</th><th>required</th><th>seeds</th><th>supported / inconclusive / refuted</th>"
        f"<th>observed rate of required verdict [{number(run.get('confidence', 0.95)):.0%} Clopper-Pearson]</th>"
        "<th>predicted power (mean over seeds)</th>"
        f"<th>vs power target {fmt(target)}</th><th>error rate (wrong decisive verdict)</th>"
        "<th>vs alpha</th></tr>"
    )
    figure = calibration_figure(power)
    calibration = (
        "<p><b>Calibration.</b> Predicted power (engine.power, mean over the seeds) against the observed rate of "
        "the required verdict, with its Clopper-Pearson interval; a calibrated prediction lies on the diagonal "
        "within the intervals (claims whose interval misses it are named).</p>"
        f"<figure>{figure}</figure>"
        if figure
        else '<p class="muted">No predicted power in this power table (made before it was recorded): '
        "no calibration figure.</p>"
    )
    return (
        f"<p>Master seeds {_e(run.get('seeds', []))}, budget {_e(run.get('budget', '?'))}, "
        f"device {_e(run.get('device', '?'))}. The error rate is refuted for a true claim and supported for a "
        "twin; the declared alpha bounds it (for twins: when the twin is off by more than its margin). "
        "With all N seeds as required the interval's lower end is 0.025^(1/N) (0.83 for N = 20): few seeds can "
        f"show a claim below the target, not certify it. Predicted power below {fmt(target)} is flagged ⚑.</p>"
        f"<table>{head}{''.join(rows)}</table>" + suite_block(power.get("suite")) + calibration
    )


def environment_table(run: Mapping[str, Any]) -> str:
    rows = [(k, v) for k, v in sorted(run.items()) if k != "versions"]
    rows += [(f"version: {k}", v) for k, v in sorted((run.get("versions") or {}).items())]
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows) + "</table>"


def build_report(
    ledger: Mapping[str, Any],
    power: Mapping[str, Any] | None = None,
    title: str | None = None,
    progress: Callable[[Iterable[Mapping[str, Any]]], Iterable[Mapping[str, Any]]] | None = None,
) -> str:
    """The whole report as one HTML string; ``progress`` wraps the loop over claim sections (a tqdm bar)."""
    run = ledger.get("run", {})
    records = sorted(ledger.get("claims", []), key=lambda r: r["id"])
    reviews = [r for r in records if is_review(r)]
    true_claims = [r for r in records if not r.get("twin_of") and not is_review(r)]
    twins = [r for r in records if r.get("twin_of") and not is_review(r)]
    failing = [r["id"] for r in records if r.get("verdict") != wanted_verdict(r)]
    flagged = [r["id"] for r in records if power_flagged(r)]
    title = title or "NTK claims: verification report"
    status = (
        '<span class="ok">every claim came out as required</span>'
        if not failing
        else f'<span class="bad">{len(failing)} claim(s) not as required: {_e(", ".join(failing))}</span>'
    )
    if flagged:
        status += (
            f'; <span class="flag">{len(flagged)} claim(s) with predicted power below {fmt(POWER_TARGET)} ⚑: '
            f"{_e(', '.join(flagged))}</span>"
        )
    counts = [plural(len(true_claims), "claim"), plural(len(twins), "false twin")]
    if reviews:
        counts.append(f"{len(reviews)} answering reviewers' questions")
    nav = ['<a href="#summary">summary</a>', '<a href="#summary-twins">twins summary</a>']
    nav += ['<a href="#summary-reviews">reviewers\' questions summary</a>'] if reviews else []
    nav += ['<a href="#power">power table</a>'] if power else []
    nav += ['<a href="#claims">claims</a>', '<a href="#twins">false twins</a>']
    nav += ['<a href="#reviews">reviewers\' questions</a>'] if reviews else []
    nav += ['<a href="#environment">environment</a>']
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>',
        f"<h1>{_e(title)}</h1>",
        f"<p>{', '.join(counts)}; seed {_e(run.get('seed', '?'))}, "
        f"budget {_e(run.get('budget', '?'))}, device {_e(run.get('device', '?'))}, "
        f"sampler {_e(run.get('sampler', '?'))}. {status}.</p>",
        "<nav>" + " · ".join(nav) + "</nav>",
        '<p class="muted">A true claim must be <b>supported</b> (every equivalence test passes); a false twin must '
        "be <b>refuted</b> (Holm rejects at the family-wise alpha). Intervals are simultaneous over each claim's "
        "comparisons. The decisive comparison is the one whose evidence decided the verdict. Predicted power is "
        f"the probability of the required verdict by design (engine.power); below {fmt(POWER_TARGET)} it is "
        "flagged ⚑.</p>",
        '<h2 id="summary">Summary: claims</h2>',
        summary_table(true_claims),
        '<h2 id="summary-twins">Summary: false twins</h2>',
        summary_table(twins),
    ]
    if reviews:
        parts += ['<h2 id="summary-reviews">Summary: reviewers\' questions</h2>', REVIEWS_NOTE, summary_table(reviews)]
    if power:
        parts += ['<h2 id="power">Power table</h2>', power_table(power)]
    sections = {r["id"]: claim_section(r) for r in (progress or iter)(true_claims + twins + reviews)}
    parts += ['<h2 id="claims">Claims</h2>', *(sections[r["id"]] for r in true_claims)]
    parts += ['<h2 id="twins">False twins</h2>', *(sections[r["id"]] for r in twins)]
    if reviews:
        parts += ['<h2 id="reviews">Reviewers\' questions</h2>', REVIEWS_NOTE, *(sections[r["id"]] for r in reviews)]
    parts += ['<h2 id="environment">Environment</h2>', environment_table(run), "</body></html>"]
    return "\n".join(parts)


def write_report(
    path: str | os.PathLike[str],
    ledger: Mapping[str, Any],
    power: Mapping[str, Any] | None = None,
    progress: Callable[[Iterable[Mapping[str, Any]]], Iterable[Mapping[str, Any]]] | None = None,
) -> Path:
    """Write the report next to nothing else it needs (self-contained); returns the path."""
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"report path {target} is a directory; give a file name such as {target / 'report.html'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(build_report(ledger, power, progress=progress), encoding="utf-8")
    return target
