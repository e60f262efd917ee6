"""Regression check of a ledger against a committed baseline ledger.

A claim *regressed* when
- it disappeared (in the baseline, not in the current ledger);
- its verdict got worse: for a true claim supported > inconclusive > refuted, for a false twin
  refuted > inconclusive > supported (the required verdict ranks best);
- it is supported in both and a matched estimate moved outside its baseline interval.
Claims new in the current ledger are listed ("new (not in baseline)"), never failed: adding a claim
must not break CI before the baseline is refreshed.

Like with like: comparisons are matched across ledgers by (drawn example, label), never by position.
With ``match="decisive"`` (default) the checked comparisons are the baseline's decisive comparison and
the current one, each looked up in the other ledger. When the drawn examples differ (another
Hypothesis version, a changed strategy or budget) nothing matches and the check says "not comparable":
an estimate from another example is an estimate of another quantity, so it is not compared, and the
diff advises refreshing the baseline. ``match="all"`` checks every matched comparison.

Why decisive by default: with the same seed, code and package versions the estimates are identical
(every draw derives from the seed), so any move is a code change. After a legitimate change of draws a
new estimate is an independent draw, and the chance that it falls outside the baseline's simultaneous
interval (level 1 - alpha/C) is P(|Z| > z_{1-alpha/2C}/sqrt 2) per comparison, about 0.007 for
C = 72 and alpha = 0.01 — tolerable for two comparisons per claim, about 0.4 per claim over all 72.

Float determinism: on one machine the same seed gives bit-identical estimates under any torch/BLAS
thread count (measured with OMP_NUM_THREADS=1 vs 2 on seven claims: estimates identical, interval ends
and p-values differing in the last ~12 digits). Estimates with a zero-width interval (deterministic
quantities) would sit exactly on their interval's ends, so an interval is widened by FLOAT_SLACK
(relative, plus a tiny absolute part) before the comparison: a rounding difference is not a move.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reports.evidence import example_key, interval, number, wanted_verdict

MATCHES = ("decisive", "all")
FLOAT_SLACK = 1e-9  # relative widening of a baseline interval: far above float64 rounding, far below any CI
FLOAT_SLACK_ABSOLUTE = 1e-15
NOT_COMPARABLE = "not comparable"
RANKS = {
    "supported": {"supported": 2, "inconclusive": 1, "refuted": 0},
    "refuted": {"refuted": 2, "inconclusive": 1, "supported": 0},
}


@dataclass(frozen=True)
class DiffRow:
    """One claim's line of the diff table."""

    claim_id: str
    baseline: str
    current: str
    check: str
    status: str
    failed: bool


def _comparisons(record: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(example key, label) -> comparison for every comparison of a claim record."""
    return {
        (example_key(e.get("example")), str(c["label"])): c
        for e in record.get("examples", [])
        for c in e.get("comparisons", [])
    }


def decisive_key(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """(example key, label) of the record's decisive comparison (by ``decisive_example``, else by label
    and estimate for ledgers written before that field existed)."""
    examples = record.get("examples", [])
    index = record.get("decisive_example")
    if isinstance(index, int) and 0 <= index < len(examples):
        return example_key(examples[index].get("example")), str(record.get("decisive"))
    for e in examples:
        for c in e.get("comparisons", []):
            if c["label"] == record.get("decisive") and number(c["estimate"]) == number(record.get("estimate")):
                return example_key(e.get("example")), str(c["label"])
    return None


def _outside(estimate: Any, ci: Any) -> bool | None:
    """Whether ``estimate`` lies outside the interval ``ci`` widened by the float slack; None when the
    interval is not usable (a missing or NaN end, e.g. a KS statistic)."""
    low, high = interval(ci)
    if math.isnan(low) or math.isnan(high):
        return None
    x = number(estimate)
    scale = max((abs(v) for v in (low, high, x) if math.isfinite(v)), default=0.0)
    slack = FLOAT_SLACK * scale + FLOAT_SLACK_ABSOLUTE
    return not (low - slack <= x <= high + slack)


def estimate_check(baseline: Mapping[str, Any], current: Mapping[str, Any], match: str) -> tuple[str, bool]:
    """(description, moved) for a claim supported in both ledgers (see module doc)."""
    old, new = _comparisons(baseline), _comparisons(current)
    keys = (
        sorted(set(old) & set(new))
        if match == "all"
        else list(dict.fromkeys(k for k in (decisive_key(baseline), decisive_key(current)) if k in old and k in new))
    )
    moved, checked = [], 0
    for key in keys:
        outside = _outside(new[key]["estimate"], old[key].get("ci"))
        if outside is None:
            continue
        checked += 1
        if outside:
            low, high = interval(old[key].get("ci"))
            moved.append(f"{key[1]}: {number(new[key]['estimate']):.4g} outside [{low:.4g}, {high:.4g}]")
    if checked:
        return ("; ".join(moved) if moved else f"{checked} matched estimate(s) inside baseline CI"), bool(moved)
    if keys:
        return f"{NOT_COMPARABLE} (matched comparisons have no interval)", False
    return f"{NOT_COMPARABLE} (drawn examples differ from the baseline's)", False


def _verdict_text(record: Mapping[str, Any]) -> str:
    low, high = interval(record.get("ci"))
    return f"{record['verdict']} {number(record.get('estimate')):.4g} [{low:.4g}, {high:.4g}]"


def compare_ledgers(baseline: Mapping[str, Any], current: Mapping[str, Any], match: str = "decisive") -> list[DiffRow]:
    """One row per claim in either ledger, sorted by id (see module doc for what fails)."""
    if match not in MATCHES:
        raise ValueError(f"unknown match {match!r}; choose one of {list(MATCHES)}")
    old = {r["id"]: r for r in baseline.get("claims", [])}
    new = {r["id"]: r for r in current.get("claims", [])}
    rows = []
    for claim_id in sorted(set(old) | set(new)):
        if claim_id not in new:
            rows.append(
                DiffRow(claim_id, _verdict_text(old[claim_id]), "(missing)", "", "REGRESSED: disappeared", True)
            )
            continue
        if claim_id not in old:
            rows.append(DiffRow(claim_id, "(new)", _verdict_text(new[claim_id]), "", "new (not in baseline)", False))
            continue
        b, c = old[claim_id], new[claim_id]
        rank = RANKS[wanted_verdict(c)]
        before, after = rank.get(b["verdict"], -1), rank.get(c["verdict"], -1)
        check, failed = "", False
        if after < before:
            status, failed = f"REGRESSED: {b['verdict']} -> {c['verdict']}", True
        elif after > before:
            status = f"improved: {b['verdict']} -> {c['verdict']}"
        else:
            status = "ok"
        if b["verdict"] == c["verdict"] == "supported":
            check, moved = estimate_check(b, c, match)
            if moved:
                status, failed = "REGRESSED: estimate moved outside baseline CI", True
        rows.append(DiffRow(claim_id, _verdict_text(b), _verdict_text(c), check, status, failed))
    return rows


def run_differences(baseline: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Run settings that differ (seed, budget, device, sampler, versions): printed as a caveat."""
    a, b = baseline.get("run", {}), current.get("run", {})
    notes = [f"{k}: {a.get(k)} -> {b.get(k)}" for k in ("seed", "budget", "device", "sampler") if a.get(k) != b.get(k)]
    versions_a, versions_b = a.get("versions") or {}, b.get("versions") or {}
    notes += [
        f"{k}: {versions_a.get(k)} -> {versions_b.get(k)}"
        for k in sorted(set(versions_a) | set(versions_b))
        if versions_a.get(k) != versions_b.get(k)
    ]
    return notes


def format_table(rows: list[DiffRow]) -> str:
    """A plain-text table: claim, baseline, current, estimate check, status."""
    header = ("claim", "baseline", "current", "estimate check", "status")
    cells = [header, *[(r.claim_id, r.baseline, r.current, r.check, r.status) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
