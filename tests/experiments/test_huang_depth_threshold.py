"""Smoke test of the depth-threshold experiment (Review 3 of Huang et al.) and of the Dask cell map it runs on."""

import json

import pytest

from experiments import huang_depth_threshold
from experiments.cells import map_cells


def square(x: int) -> int:
    return x * x


def test_map_cells_returns_results_in_cell_order_in_process():
    assert map_cells(square, [3, 1, 2], jobs=1) == [9, 1, 4]
    assert map_cells(square, [], jobs=1) == []
    with pytest.raises(ValueError, match="--jobs sizes a LocalCluster"):
        map_cells(square, [1], scheduler="tcp://127.0.0.1:1", jobs=2)
    with pytest.raises(ValueError, match="PROTOCOL://HOST:PORT"):
        map_cells(square, [1], scheduler="localhost")


def test_quick_run_writes_curves_and_thresholds(tmp_path):
    rows, found = huang_depth_threshold.main(["--out", str(tmp_path), "--jobs", "1"])
    assert [r["depth"] for r in rows] == [1, 2, 4]
    assert all(0.5 <= r[f"{key}_accuracy"] <= 1 for r in rows for key in ("kernel", "networks"))
    assert set(found) == {"ceiling", "kernel", "networks", "difference"}
    for key in ("kernel", "networks"):
        t = found[key]
        assert t["beyond_grid"] or (t["log2"] < found["ceiling"] and t["ci"][0] <= t["ci"][1])
    saved = json.loads((tmp_path / "huang_depth_threshold.json").read_text())
    assert len(saved["settings"]["networks_per_split"]) == 3 and (tmp_path / "huang_depth_threshold.png").exists()
    again, _ = huang_depth_threshold.main(["--out", str(tmp_path / "again"), "--jobs", "1"])
    assert again == rows  # seeded per (split, depth): the same cells give the same accuracies


@pytest.mark.parametrize(
    ("option", "message"),
    [(["--depths", "4,2"], "increasing"), (["--drop", "0"], "--drop"), (["--train", "120"], "--train"),
     (["--networks", "0"], "--networks")],
)  # fmt: skip
def test_bad_options_are_clear_errors(tmp_path, option, message, capsys):
    with pytest.raises(SystemExit):
        huang_depth_threshold.main(["--out", str(tmp_path), *option])
    assert message in capsys.readouterr().err
