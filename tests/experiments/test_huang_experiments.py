"""Smoke tests: the Huang experiment scripts run at tiny sizes, write data and plots, and show the
degeneration they are about (deterministic: analytic kernels, seeded splits)."""

import json

import pytest

from experiments import huang_gamma_sweep, huang_kernel_regression


def test_kernel_regression_tiny_run_writes_data_and_plot(tmp_path):
    tiny = ["--pool", "120", "--train", "60", "--splits", "2", "--depths", "1,1000", "--gammas", "1", "--jobs", "1"]
    rows = huang_kernel_regression.main(["--out", str(tmp_path), *tiny])
    assert [(r["architecture"], r["depth"]) for r in rows] == [
        ("FFNet", 1), ("FFNet", 1000), ("ResNet gamma=1", 1), ("ResNet gamma=1", 1000)
    ]  # fmt: skip
    assert all(0 <= r["accuracy"] <= 1 and 0 <= r["majority_baseline"] <= 1 for r in rows)
    ff1, ff1000, res1, res1000 = rows
    assert ff1000["offdiag_sd"] < 0.01 * ff1["offdiag_sd"]  # FFNet: constant + nugget
    assert abs(ff1000["offdiag_mean"] - 0.25) < 0.01
    assert res1000["offdiag_sd"] == pytest.approx(res1["offdiag_sd"], rel=0.05)  # ResNet: ~ ResNet-1
    assert res1000["accuracy"] > 0.8 and res1["accuracy"] > 0.8  # odd vs even digits, 60 training images
    saved = json.loads((tmp_path / "huang_kernel_regression.json").read_text())
    assert saved["settings"]["ridge"] == 1e-8 and len(saved["rows"]) == 4
    assert (tmp_path / "huang_kernel_regression.png").stat().st_size > 0
    assert (tmp_path / "huang_kernel_regression.csv").exists()


def test_kernel_regression_pair_task(tmp_path):
    rows = huang_kernel_regression.main(
        ["--out", str(tmp_path), "--task", "3v5", "--pool", "80", "--train", "40", "--splits", "1", "--depths", "1",
         "--jobs", "1"]
    )
    assert len(rows) == 3 and all(r["accuracy_sd"] == 0.0 for r in rows)


@pytest.mark.parametrize(
    ("option", "match"),
    [
        (["--task", "3v3"], "task"),
        (["--task", "odd"], "task"),
        (["--pool", "5000"], "pool"),
        (["--train", "300"], "train"),
        (["--ridge", "-1"], "ridge"),
        (["--gammas", "0.2"], "gammas"),
        (["--depths", "0,3"], "depths"),
        (["--splits", "0"], "splits"),
    ],
)
def test_kernel_regression_bad_options_are_clear_errors(tmp_path, option, match):
    with pytest.raises(ValueError, match=match):
        huang_kernel_regression.main(["--out", str(tmp_path), "--depths", "1", *option])


def test_gamma_sweep_tiny_run(tmp_path):
    resnet, ffnet = huang_gamma_sweep.main(["--out", str(tmp_path), "--depths", "100,1000", "--gammas", "0.5,1"])
    assert len(resnet) == 4 and len(ffnet) == 2
    at_one = [r for r in resnet if r["gamma"] == 1.0][-1]
    assert 0.9 < at_one["sup_rate"] < 1.1 and 0.4 < at_one["antipodal_rate"] < 0.6
    half = [r for r in resnet if r["gamma"] == 0.5]
    assert half[-1]["sup_rate"] is None and half[-1]["sup_distance"] > 0.05  # a different, non-degenerate limit
    assert ffnet[1]["spread"] < ffnet[0]["spread"] and -1.1 < ffnet[1]["spread_slope"] < -0.8
    assert (tmp_path / "huang_gamma_sweep.png").stat().st_size > 0


def test_gamma_sweep_bad_depths(tmp_path):
    with pytest.raises(ValueError, match="depths"):
        huang_gamma_sweep.main(["--out", str(tmp_path), "--depths", "100"])
