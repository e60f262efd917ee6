"""The baseline diff fails on regressed verdicts, vanished claims and moved estimates, and only then."""

import copy
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import engine.registry
from engine.ledger import read_ledger
from reports.__main__ import CI_RUN, main
from reports.diff import compare_ledgers, decisive_key, format_table

ROOT = Path(__file__).parents[2]
BASELINE = ROOT / "reports" / "baseline.json"


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
    assert "4 claim(s) regressed" in out and "python -m reports baseline" in out and "1 new" in out


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


def test_other_examples_are_not_comparable_and_do_not_fail(ledger, capsys, tmp_path):
    current = copy.deepcopy(ledger)
    record = by_id(current, "paper.ratio")
    for e in record["examples"]:
        e["example"]["spec"]["width"] += 1000  # other draws (e.g. another Hypothesis version)
        e["comparisons"][0]["estimate"] = 5.0  # an estimate of another quantity: not compared
    row = rows_by_id(ledger, current)["paper.ratio"]
    assert not row.failed and row.check == "not comparable (drawn examples differ from the baseline's)"
    assert main(["diff", write(tmp_path, "base.json", ledger), write(tmp_path, "cur.json", current)]) == 0
    out = capsys.readouterr().out
    assert "1 with estimates not comparable" in out and "python -m reports baseline reports/ledger.json" in out


def test_rounding_differences_are_not_moves_but_real_ones_are(ledger):
    baseline = copy.deepcopy(ledger)
    exact = by_id(baseline, "paper.ratio")["examples"][0]["comparisons"][0]
    exact["estimate"], exact["ci"] = 0.0036785271872189, [0.0036785271872189, 0.0036785271872189]  # deterministic
    current = copy.deepcopy(baseline)
    moved = by_id(current, "paper.ratio")["examples"][0]["comparisons"][0]
    moved["estimate"] = 0.0036785271872189 * (1 + 4e-16)  # another thread count's last-bit rounding
    assert not rows_by_id(baseline, current)["paper.ratio"].failed
    moved["estimate"] = 0.0036785271872189 * (1 + 1e-6)  # a real change of a deterministic quantity
    assert rows_by_id(baseline, current)["paper.ratio"].failed
    zero = copy.deepcopy(baseline)
    by_id(zero, "paper.ratio")["examples"][0]["comparisons"][0].update(estimate=0.0, ci=[0.0, 0.0])
    now = copy.deepcopy(zero)
    by_id(now, "paper.ratio")["examples"][0]["comparisons"][0]["estimate"] = 1e-17
    assert not rows_by_id(zero, now)["paper.ratio"].failed


def test_bad_input_is_rejected_by_name(ledger, tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown match"):
        compare_ledgers(ledger, ledger, "nearest")
    good = write(tmp_path, "good.json", ledger)
    (tmp_path / "broken.json").write_text('{"run": {}, "claims": [')
    no_verdict = copy.deepcopy(ledger)
    del no_verdict["claims"][1]["verdict"]
    twice = copy.deepcopy(ledger)
    twice["claims"].append(copy.deepcopy(twice["claims"][0]))
    no_ci = copy.deepcopy(ledger)
    no_ci["claims"][0]["ci"] = [1.0]
    cases = {
        str(tmp_path / "missing.json"): "no such ledger file",
        str(tmp_path): "is a directory",
        str(tmp_path / "broken.json"): "is not valid JSON",
        write(tmp_path, "list.json", [1, 2]): "not a claims ledger",
        write(tmp_path, "nv.json", no_verdict): "claim 'paper.ratio.twin' has verdict None",
        write(tmp_path, "twice.json", twice): "claim 'paper.ratio' appears twice",
        write(tmp_path, "noci.json", no_ci): "claim 'paper.ratio' has no two-number 'ci'",
    }
    for path, message in cases.items():
        assert main(["diff", good, path]) == 2, path
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err


@pytest.mark.parametrize(
    "argv",
    [["nope"], ["diff", "--nope", "a", "b"], ["diff", "only-one"], ["build"], ["diff", "a", "b", "--match", "x"], []],
    ids=["unknown-command", "unknown-option", "missing-argument", "no-ledger", "bad-choice", "nothing"],
)
def test_unknown_commands_and_options_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m reports" in err and "Traceback" not in err


def test_the_module_exits_2_without_a_traceback_on_a_malformed_ledger(tmp_path):
    (tmp_path / "bad.json").write_text('{"run": {}, "claims": [{"id": "x"}]}')
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "reports", "diff", str(tmp_path / "bad.json"), str(tmp_path / "bad.json")],
        capture_output=True, text=True, cwd=ROOT, env=environment, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "python -m reports diff: error:" in done.stderr and "claim 'x' has verdict None" in done.stderr


@pytest.fixture
def registry_of(monkeypatch):
    """Make engine.registry.all_claims return claims with the given ids (the baseline compares with it)."""

    def install(ids):
        fakes = [types.SimpleNamespace(id=i) for i in ids]
        monkeypatch.setattr(engine.registry, "all_claims", lambda: fakes)

    return install


def test_baseline_refresh_copies_and_refuses_bad_ledgers(ledger, tmp_path, capsys, registry_of):
    good = copy.deepcopy(ledger)
    good["claims"] = [c for c in good["claims"] if c["id"] != "paper.unknown-rule"]
    registry_of([c["id"] for c in good["claims"]])
    target = tmp_path / "baseline.json"
    assert main(["baseline", write(tmp_path, "good.json", good), "-o", str(target)]) == 0
    assert read_ledger(target) == good and "review and commit it" in capsys.readouterr().out

    def refused(candidate, *reasons):
        path = write(tmp_path, "candidate.json", candidate)
        assert main(["baseline", path, "-o", str(tmp_path / "refused.json")]) == 1
        out = capsys.readouterr().out
        assert "refusing" in out and all(reason in out for reason in reasons), out
        assert not (tmp_path / "refused.json").exists()

    refused(ledger, "paper.unknown-rule is inconclusive, required supported")
    twin_kept = copy.deepcopy(good)
    by_id(twin_kept, "paper.ratio.twin")["verdict"] = "supported"
    refused(twin_kept, "paper.ratio.twin is supported, required refuted")
    partial = copy.deepcopy(good)
    partial["claims"] = partial["claims"][1:]
    refused(partial, "registered claims missing (a partial run?): paper.ratio")
    registry_of([c["id"] for c in good["claims"][1:]])
    refused(good, "claims not registered any more (a stale ledger?): paper.ratio")
    registry_of([c["id"] for c in good["claims"]])
    other_run = copy.deepcopy(good)
    other_run["run"].update(budget="standard", seed=3)
    refused(other_run, "run budget is 'standard', CI's is 'quick'", "run seed is 3, CI's is 0")
    forced = write(tmp_path, "forced.json", ledger)
    assert main(["baseline", forced, "-o", str(tmp_path / "b2.json"), "--force"]) == 0
    assert "warning (forced)" in capsys.readouterr().out and (tmp_path / "b2.json").exists()
    assert main(["baseline", str(target), "-o", str(target)]) == 2
    assert "already the baseline file" in capsys.readouterr().err


def test_the_committed_baseline_would_be_accepted_settings_wise():
    baseline = read_ledger(BASELINE)
    assert {k: baseline["run"].get(k) for k in CI_RUN} == CI_RUN
    assert all(c["verdict"] == ("refuted" if c["twin_of"] else "supported") for c in baseline["claims"])
