"""The baseline diff fails on regressed verdicts, vanished claims and moved estimates, and only then."""

import copy
import json
from pathlib import Path

import pytest

from engine.ledger import read_ledger
from reports.__main__ import main
from reports.diff import compare_ledgers, decisive_key, format_table

BASELINE = Path(__file__).parents[2] / "reports" / "baseline.json"


def by_id(ledger, claim_id):
    return next(c for c in ledger["claims"] if c["id"] == claim_id)


def rows_by_id(baseline, current, match="decisive"):
    return {r.claim_id: r for r in compare_ledgers(baseline, current, match)}


def write(tmp_path, name, ledger):
    path = tmp_path / name
    path.write_text(json.dumps(ledger))
    return str(path)


def test_an_unchanged_ledger_passes(ledger, tmp_path, capsys):
    rows = compare_ledgers(ledger, copy.deepcopy(ledger))
    assert not any(r.failed for r in rows) and {r.status for r in rows} == {"ok"}
    path = write(tmp_path, "a.json", ledger)
    assert main(["diff", path, path]) == 0
    assert "no regression" in capsys.readouterr().out


def test_the_committed_baseline_passes_against_itself():
    baseline = read_ledger(BASELINE)
    assert baseline["claims"], "reports/baseline.json has no claims"
    assert not any(r.failed for r in compare_ledgers(baseline, baseline, "all"))


def test_a_hand_made_regressed_ledger_fails_with_a_readable_table(ledger, tmp_path, capsys):
    current = copy.deepcopy(ledger)
    by_id(current, "paper.ratio")["verdict"] = "inconclusive"  # supported -> inconclusive
    by_id(current, "paper.ratio.twin")["verdict"] = "inconclusive"  # refuted twin -> not refuted
    moved = by_id(current, "paper.slope")  # still supported, decisive estimate outside the baseline CI
    moved["examples"][0]["comparisons"][0]["estimate"] = -0.2
    current["claims"] = [c for c in current["claims"] if c["id"] != "paper.growth"]  # disappeared
    current["claims"].append({**copy.deepcopy(by_id(ledger, "paper.ratio")), "id": "paper.brand-new"})
    rows = rows_by_id(ledger, current)
    assert rows["paper.ratio"].failed and "supported -> inconclusive" in rows["paper.ratio"].status
    assert rows["paper.ratio.twin"].failed and "refuted -> inconclusive" in rows["paper.ratio.twin"].status
    assert rows["paper.slope"].failed and "outside [-0.6, -0.4]" in rows["paper.slope"].check
    assert rows["paper.growth"].failed and "disappeared" in rows["paper.growth"].status
    assert not rows["paper.brand-new"].failed and rows["paper.brand-new"].status.startswith("new")
    assert not rows["tool.same-law"].failed and not rows["paper.unknown-rule"].failed
    table = format_table(list(rows.values()))
    assert table.splitlines()[0].split()[:3] == ["claim", "baseline", "current"] and table.count("REGRESSED") == 4
    assert main(["diff", write(tmp_path, "base.json", ledger), write(tmp_path, "cur.json", current)]) == 1
    out = capsys.readouterr().out
    assert "4 claim(s) regressed" in out and "python -m reports baseline" in out


def test_improvements_pass_and_an_inconclusive_baseline_may_not_get_refuted(ledger):
    current = copy.deepcopy(ledger)
    by_id(current, "paper.unknown-rule")["verdict"] = "supported"
    assert rows_by_id(ledger, current)["paper.unknown-rule"].status.startswith("improved")
    by_id(current, "paper.unknown-rule")["verdict"] = "refuted"
    assert rows_by_id(ledger, current)["paper.unknown-rule"].failed


def test_estimates_are_matched_like_with_like_by_example_and_label(ledger):
    current = copy.deepcopy(ledger)
    record = by_id(current, "paper.ratio")
    # a non-decisive comparison moves: only --match all sees it
    record["examples"][2]["comparisons"][1]["estimate"] = 1.5
    assert not rows_by_id(ledger, current)["paper.ratio"].failed
    assert rows_by_id(ledger, current, "all")["paper.ratio"].failed
    # the decisive comparison changes label in the new run: it is looked up in the baseline, like with like
    record["decisive"], record["decisive_example"] = "Wout", 2
    row = rows_by_id(ledger, current)["paper.ratio"]
    assert row.failed and "Wout: 1.5 outside [0.9, 1.05]" in row.check
    assert decisive_key(by_id(ledger, "tool.same-law"))[1] == "f: variance"


def test_other_examples_and_another_decisive_label_are_not_comparable(ledger):
    current = copy.deepcopy(ledger)
    record = by_id(current, "paper.ratio")
    for e in record["examples"]:
        e["example"]["spec"]["width"] += 1000
    assert "inside baseline CI (examples differ)" in rows_by_id(ledger, current)["paper.ratio"].check
    record["decisive"] = "Wout"
    row = rows_by_id(ledger, current)["paper.ratio"]
    assert not row.failed and row.check.startswith("not comparable")


def test_bad_input_is_rejected_by_name(ledger, tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown match"):
        compare_ledgers(ledger, ledger, "nearest")
    assert main(["diff", str(tmp_path / "missing.json"), str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_baseline_refresh_copies_and_refuses_failing_ledgers(ledger, tmp_path, capsys):
    good = copy.deepcopy(ledger)
    good["claims"] = [c for c in good["claims"] if c["id"] != "paper.unknown-rule"]
    target = tmp_path / "baseline.json"
    assert main(["baseline", write(tmp_path, "good.json", good), "-o", str(target)]) == 0
    assert read_ledger(target) == good
    assert main(["baseline", write(tmp_path, "bad.json", ledger), "-o", str(tmp_path / "b2.json")]) == 1
    assert "paper.unknown-rule (inconclusive)" in capsys.readouterr().out and not (tmp_path / "b2.json").exists()
    assert main(["baseline", write(tmp_path, "bad.json", ledger), "-o", str(tmp_path / "b2.json"), "--force"]) == 0
