"""The power table: verdict rates over master seeds with Clopper-Pearson intervals, end to end
(serial and in spawned worker processes), on cheap toy claims (tests/reports/toy_claims.py)."""

import json
from pathlib import Path

import pytest

import reports.power as power_module
from reports.__main__ import main
from reports.html import build_report
from reports.power import format_table, power_study, rate, select_claims, summarise

TOYS = "toy_claims:claims"


@pytest.fixture(autouse=True)
def toy_module_importable(monkeypatch):
    """The toy registry's folder on sys.path (spawned workers inherit the parent's sys.path)."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def test_clopper_pearson_interval_is_statsmodels_beta():
    assert rate(10, 10, 0.95)[1] == pytest.approx([0.6915, 1.0], abs=1e-4)
    assert rate(0, 20, 0.95)[1] == pytest.approx([0.0, 0.1684], abs=1e-4)
    assert rate(20, 20, 0.95)[1][0] == pytest.approx(0.025 ** (1 / 20), abs=1e-4)  # 20 seeds cannot certify 0.95


def test_statuses_against_target_and_alpha():
    runs = [{"id": "toy.ratio", "master_seed": s, "verdict": "supported", "seconds": 1.0} for s in range(100)]
    runs += [{"id": "toy.ratio.twin", "master_seed": s, "verdict": "supported", "seconds": 1.0} for s in range(10)]
    runs += [{"id": "toy.ratio.weak-twin", "master_seed": s, "verdict": "refuted", "seconds": 1.0} for s in range(20)]
    table = {c["id"]: c for c in summarise(runs, target=0.95, confidence=0.95, registry=TOYS)}
    assert table["toy.ratio"]["status"] == "meets target"  # 100/100: lower CP end 0.964
    assert table["toy.ratio"]["error_rate"]["status"] == "consistent with alpha"
    twin = table["toy.ratio.twin"]
    assert twin["wanted"] == "refuted" and twin["status"] == "below target"
    assert twin["error_rate"] == {"verdict": "supported", "rate": 1.0, "ci": pytest.approx([0.6915, 1.0], abs=1e-4),
                                  "status": "exceeds alpha"}  # fmt: skip
    assert table["toy.ratio.weak-twin"]["status"] == "consistent with target (more seeds needed)"  # 20/20


def test_power_study_runs_claims_under_each_seed():
    calls = []
    ids = select_claims(None, TOYS)
    power = power_study(ids, seeds=[1, 2, 3], device="cpu", progress=calls.append, registry=TOYS)
    assert len(calls) == 9 and power["run"]["seeds"] == [1, 2, 3] and power["run"]["jobs"] == 1
    table = {c["id"]: c for c in power["claims"]}
    assert table["toy.ratio"]["counts"]["supported"] == 3 and table["toy.ratio.twin"]["counts"]["refuted"] == 3
    assert table["toy.ratio.weak-twin"]["rate"] < 1  # 20 draws cannot refute a 5% discrepancy every time
    assert [r["master_seed"] for r in table["toy.ratio"]["runs"]] == [1, 2, 3]
    assert len({r["estimate"] for r in table["toy.ratio"]["runs"]}) == 3  # seeds change the draws
    assert "toy.ratio.twin" in format_table(power)
    page = build_report({"run": {}, "claims": []}, power)
    assert '<h2 id="power">' in page and "toy.ratio.weak-twin" in page


def test_parallel_jobs_give_the_serial_table():
    serial = power_study(["toy.ratio", "toy.ratio.twin"], seeds=[4, 5], device="cpu", registry=TOYS)
    calls = []
    parallel = power_study(
        ["toy.ratio", "toy.ratio.twin"], seeds=[4, 5], device="cpu", jobs=2, threads=1, progress=calls.append,
        registry=TOYS,
    )  # fmt: skip
    assert len(calls) == 4 and parallel["run"]["jobs"] == 2 and parallel["run"]["threads"] == 1

    def runs(power):
        return [(r["id"], r["master_seed"], r["verdict"], r["estimate"]) for c in power["claims"] for r in c["runs"]]

    assert runs(parallel) == runs(serial)  # same seeds, same verdicts and estimates, whatever the process


def test_a_claim_that_raises_is_tallied_not_fatal():
    power = power_study(
        ["toy.ratio", "toy.broken"], seeds=[1, 2], device="cpu", registry="toy_claims:claims_with_a_broken_one"
    )
    broken = next(c for c in power["claims"] if c["id"] == "toy.broken")
    assert broken["counts"]["crashed"] == 2 and broken["rate"] == 0.0
    assert "broken on purpose" in broken["runs"][0]["error"] and "runs that raised" in format_table(power)
    assert "2 crashed" in build_report({"run": {}, "claims": []}, power)


def test_claims_filter_takes_globs_and_substrings():
    assert select_claims("toy.ratio.t*", TOYS) == ["toy.ratio.twin"]
    assert select_claims("weak, toy.ratio.twin", TOYS) == ["toy.ratio.twin", "toy.ratio.weak-twin"]
    with pytest.raises(ValueError, match="'nothing' matches no registered claim"):
        select_claims("weak,nothing", TOYS)
    with pytest.raises(ValueError, match="not an importable module:function"):
        select_claims(None, "no_such_module:claims")


def test_power_command_writes_json_and_rejects_bad_input(tmp_path, capsys):
    out = tmp_path / "power.json"
    flags = ["--registry", TOYS, "--device", "cpu", "-o", str(out)]
    assert main(["power", "--seeds", "2", "--claims", "toy.ratio.t*", *flags]) == 0
    assert [c["id"] for c in json.loads(out.read_text())["claims"]] == ["toy.ratio.twin"]
    assert "toy.ratio.twin" in capsys.readouterr().out
    assert main(["power", "--seeds", "1", "--claims", "no-such-claim", *flags]) == 2
    assert "no-such-claim" in capsys.readouterr().err
    assert main(["power", "--seeds", "1", "--registry", TOYS, "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs"):
        power_study(["toy.ratio"], [1], jobs=0, registry=TOYS)
    with pytest.raises(ValueError, match="budget"):
        power_study(["toy.ratio"], [1], budget="huge", registry=TOYS)
    with pytest.raises(ValueError, match="unknown claim"):
        power_study(["toy.nope"], [1], registry=TOYS)
    for bad in (["power", "--seeds", "0"], ["power", "--jobs", "0"], ["power", "--seeds", "x"]):
        with pytest.raises(SystemExit) as exit_info:
            main(bad)
        assert exit_info.value.code == 2


def test_registry_is_cached_per_process():
    assert power_module.registered(TOYS) is power_module.registered(TOYS)
