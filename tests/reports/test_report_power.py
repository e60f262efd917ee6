"""The power table: verdict rates over master seeds with Clopper-Pearson intervals, end to end on Dask
(an in-process LocalCluster, and one of spawned worker processes), the cell store and its resume, on cheap
toy claims (tests/reports/toy_claims.py). The real scheduler/worker processes: test_report_power_cluster.py."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import reports.power as power_module
from reports.__main__ import main
from reports.cells import CellStore, store_path
from reports.html import build_report
from reports.power import format_table, power_study, rate, select_claims, summarise

TOYS = "toy_claims:claims"


@pytest.fixture(autouse=True)
def toy_module_importable(monkeypatch):
    """The toy registry's folder on sys.path (LocalCluster's spawned workers inherit the parent's sys.path)."""
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
    power = power_study(ids, seeds=[1, 2, 3], device="cpu", jobs=1, progress=calls.append, registry=TOYS)
    run = power["run"]
    assert calls == [0] + [1] * 9 and run["seeds"] == [1, 2, 3] and run["jobs"] == 1 and run["engine"] == "dask"
    assert run["cluster"] == {"scheduler": "LocalCluster", "kind": "local", "workers": 1, "processes": False}
    assert run["cells"] == 9 and run["cells_from_store"] == 0 and run["store"] is None
    table = {c["id"]: c for c in power["claims"]}
    assert table["toy.ratio"]["counts"]["supported"] == 3 and table["toy.ratio.twin"]["counts"]["refuted"] == 3
    assert table["toy.ratio.weak-twin"]["rate"] < 1  # 20 draws cannot refute a 5% discrepancy every time
    assert [r["master_seed"] for r in table["toy.ratio"]["runs"]] == [1, 2, 3]
    assert len({r["estimate"] for r in table["toy.ratio"]["runs"]}) == 3  # seeds change the draws
    assert all(0 <= c["predicted_power"] <= 1 for c in table.values())
    assert table["toy.ratio.twin"]["predicted_power"] > 0.99 > table["toy.ratio.weak-twin"]["predicted_power"]
    assert "worker" not in table["toy.ratio"]["runs"][0]  # the store keeps it, the table does not
    suite = power["suite"]
    assert suite["true_claims"] == 1 and suite["any_true_refuted"]["seeds"] == 3
    assert suite["any_twin_supported"]["claims"] == 2 and suite["bound_bonferroni"] == pytest.approx(0.01)
    text = format_table(power)
    assert "toy.ratio.twin" in text and "suite: some true claim refuted in 0/3 seeds" in text
    page = build_report({"run": {}, "claims": []}, power)
    assert '<h2 id="power">' in page and "toy.ratio.weak-twin" in page


def test_local_worker_processes_give_the_in_process_table():
    """The default engine: a LocalCluster of spawned worker processes (here two) gives the same cells."""
    claims, seeds = ["toy.ratio", "toy.ratio.twin"], [4, 5]
    in_process = power_study(claims, seeds, device="cpu", jobs=1, registry=TOYS)
    calls = []
    processes = power_study(claims, seeds, device="cpu", jobs=2, threads=1, progress=calls.append, registry=TOYS)
    assert calls == [0, 1, 1, 1, 1] and processes["run"]["jobs"] == 2 and processes["run"]["threads"] == 1
    assert processes["run"]["cluster"]["processes"] is True
    assert cells(processes) == cells(in_process)  # same seeds, same verdicts and estimates, whatever the process


def cells(power):
    return {(r["id"], r["master_seed"]): (r["verdict"], r["estimate"]) for c in power["claims"] for r in c["runs"]}


def store_entries(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_rerun_with_the_same_store_computes_only_the_missing_cells(tmp_path):
    store, claims = tmp_path / "cells.jsonl", ["toy.ratio", "toy.ratio.twin"]
    first = power_study(claims, [1], device="cpu", jobs=1, registry=TOYS, store=store)
    computed, calls = [], []
    again = power_study(claims, [1, 2, 3], device="cpu", jobs=1, registry=TOYS, store=store, progress=calls.append,
                        on_cell=computed.append)  # fmt: skip
    assert sorted((c["id"], c["master_seed"]) for c in computed) == [(c, s) for c in claims for s in (2, 3)]
    assert calls == [2, 1, 1, 1, 1] and again["run"]["cells_from_store"] == 2
    assert cells(first).items() <= cells(again).items()
    assert cells(again) == cells(power_study(claims, [1, 2, 3], device="cpu", jobs=1, registry=TOYS))
    entries = store_entries(store)
    assert entries[0]["format"] == "ntk-claims power cells" and len(entries) == 1 + 6
    assert entries[0]["settings"] == {"budget": "quick", "device": "cpu", "sampler": "auto", "registry": TOYS}
    computed.clear()
    complete = power_study(claims, [3, 1], device="cpu", jobs=1, registry=TOYS, store=store, on_cell=computed.append)
    assert computed == [] and complete["run"]["cluster"]["scheduler"] is None  # nothing to do: no cluster
    assert complete["run"]["cells_from_store"] == 4 and len(store_entries(store)) == 7


def test_an_interrupted_run_loses_at_most_the_cells_in_flight(tmp_path):
    store, claims, seeds = tmp_path / "cells.jsonl", ["toy.ratio", "toy.ratio.twin"], [1, 2, 3]

    def interrupt_after_two(cell, seen=[]):  # noqa: B006 - counts across calls on purpose
        seen.append(cell)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        power_study(claims, seeds, device="cpu", jobs=1, registry=TOYS, store=store, on_cell=interrupt_after_two)
    assert len(store_entries(store)) == 1 + 2  # the two finished cells were stored before the interrupt
    computed = []
    resumed = power_study(claims, seeds, device="cpu", jobs=1, registry=TOYS, store=store, on_cell=computed.append)
    assert len(computed) == 4 and resumed["run"]["cells_from_store"] == 2
    keys = [(e["id"], e["master_seed"]) for e in store_entries(store)[1:]]
    assert sorted(keys) == sorted((c, s) for c in claims for s in seeds)  # every cell, none twice


def test_a_torn_last_line_is_skipped_and_the_next_append_starts_a_new_line(tmp_path):
    store, claims = tmp_path / "cells.jsonl", ["toy.ratio", "toy.ratio.twin"]
    power_study(claims, [1], device="cpu", jobs=1, registry=TOYS, store=store)
    with open(store, "a") as stream:
        stream.write('{"id": "toy.ratio", "master_seed": 2, "verd')  # killed mid-write
    settings = {"budget": "quick", "device": "cpu", "sampler": "auto", "registry": TOYS}
    with CellStore(store, settings) as opened:
        assert len(opened) == 2 and opened.torn == 1 and ("toy.ratio", 2) not in opened
    computed = []
    power_study(claims, [1, 2], device="cpu", jobs=1, registry=TOYS, store=store, on_cell=computed.append)
    assert sorted((c["id"], c["master_seed"]) for c in computed) == [("toy.ratio", 2), ("toy.ratio.twin", 2)]
    lines = store.read_text().splitlines()
    assert lines[3] == '{"id": "toy.ratio", "master_seed": 2, "verd' and len(lines) == 6
    assert all(json.loads(line)["master_seed"] == 2 for line in lines[4:])  # whole lines after the torn one
    with CellStore(store, settings) as opened:
        assert len(opened) == 4 and opened.torn == 1 and opened.duplicates == 0


def test_the_cell_store_keeps_each_cell_once_one_writer_and_its_settings(tmp_path):
    settings = {"budget": "quick", "device": "cpu", "sampler": "auto", "registry": TOYS}
    path = tmp_path / "deep" / "cells.jsonl"
    cell = {"id": "toy.ratio", "master_seed": 1, "verdict": "supported", "seconds": 0.1}
    with CellStore(path, settings) as store:
        assert store.add(cell) and not store.add({**cell, "verdict": "refuted"})
        with pytest.raises(ValueError, match="in use by another run"):
            CellStore(path, settings)
    assert len(store_entries(path)) == 2
    with pytest.raises(ValueError, match=r"other settings: budget 'quick' \(this run: 'standard'\)"):
        CellStore(path, {**settings, "budget": "standard"})
    with CellStore(path, settings) as store:  # the lock went with the closed store
        assert store.get("toy.ratio", 1)["verdict"] == "supported"
    (tmp_path / "table.json").write_text(json.dumps({"run": {}, "claims": []}, indent=1))
    with pytest.raises(ValueError, match="not a power cell store"):
        CellStore(tmp_path / "table.json", settings)
    with pytest.raises(ValueError, match="is a directory"):
        CellStore(tmp_path, settings)
    assert store_path("reports/power.json") == Path("reports/power.cells.jsonl")


def test_a_claim_that_raises_is_tallied_not_fatal():
    power = power_study(
        ["toy.ratio", "toy.broken"], seeds=[1, 2], device="cpu", jobs=1, registry="toy_claims:claims_with_a_broken_one"
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


def test_power_command_writes_json_and_a_store_and_rejects_bad_input(tmp_path, capsys):
    out = tmp_path / "power.json"
    flags = ["--registry", TOYS, "--device", "cpu", "--jobs", "1", "-o", str(out)]
    assert main(["power", "--seeds", "2", "--claims", "toy.ratio.t*", *flags]) == 0
    assert [c["id"] for c in json.loads(out.read_text())["claims"]] == ["toy.ratio.twin"]
    printed = capsys.readouterr().out
    assert "toy.ratio.twin" in printed and "LocalCluster of 1 worker(s)" in printed and "2 cells computed" in printed
    assert len(store_entries(tmp_path / "power.cells.jsonl")) == 3  # default store beside -o
    assert main(["power", "--seed-list", "2,1", "--claims", "toy.ratio.t*", *flags]) == 0
    assert "0 cells computed, 2 from" in capsys.readouterr().out  # resumed: nothing left to compute

    def fails(arguments, message):
        assert main(["power", *arguments]) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1, error  # one line, no traceback

    fails(["--seeds", "1", "--claims", "no-such-claim", *flags], "no-such-claim")
    fails(["--seeds", "1", "--registry", TOYS, "-o", str(tmp_path)], "is a directory")
    fails(["--seeds", "1", "--budget", "standard", "--claims", "toy.ratio.t*", *flags], "other settings: budget")
    fails(["--seeds", "1", *flags, "--store", str(out)], "is the power table itself")
    fails(["--seed-list", "1,3-2", *flags], "range '3-2' is empty")
    fails(["--seed-list", "1,1", *flags], "repeats seed(s) [1]")
    fails(["--seed-list", "one", *flags], "'one' is not a seed")
    fails(["--seeds", "1", "--registry", TOYS, "--scheduler", "127.0.0.1:8786"], "is not PROTOCOL://HOST:PORT")
    with socket.socket() as closed:  # a free port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    unreachable = ["--scheduler", f"tcp://127.0.0.1:{port}", "--connect-timeout", "1"]
    fails(["--seeds", "1", "--registry", TOYS, *unreachable, "-o", str(tmp_path / "p.json")], "cannot reach the Dask")
    for bad in (["--seeds", "0"], ["--jobs", "0"], ["--threads", "0"], ["--seeds", "x"], ["--connect-timeout", "0"],
                ["--seeds", "2", "--seed-list", "1"], ["--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"]):  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            main(["power", *bad])
        assert exit_info.value.code == 2
    capsys.readouterr()
    for arguments, message in (
        ({"jobs": 0}, "jobs"), ({"budget": "huge"}, "budget"), ({"seeds": [1, 1]}, "repeat"),
        ({"seeds": [-1]}, ">= 0"), ({"claim_ids": ["toy.nope"]}, "unknown claim"), ({"sampler": "x"}, "sampler"),
        ({"scheduler": "tcp://127.0.0.1:1", "jobs": 2}, "jobs sizes the local cluster"), ({"target": 1.5}, "target"),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            power_study(**{"claim_ids": ["toy.ratio"], "seeds": [1], "registry": TOYS, **arguments})


def test_the_report_tools_import_no_torch():
    code = "import sys, reports.__main__, reports.html, reports.power; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_registry_is_cached_per_process():
    assert power_module.registered(TOYS) is power_module.registered(TOYS)
