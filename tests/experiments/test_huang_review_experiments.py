"""Smoke tests: the Huang review experiment scripts (issue 18, items 1-2 and 4) run at tiny sizes, write data
and plots, and show what they are about."""

import json

import pytest

from experiments import huang_review_depth, huang_review_trained_vs_kernel


def test_depth_sweep_quick_run_writes_data_and_plot(tmp_path):
    rows = huang_review_depth.main(["--out", str(tmp_path), "--budget", "quick", "--jobs", "1"])
    families = ["FFNet", "ResNet", "BatchNorm FFNet", "BatchNorm ResNet", "conv FFNet", "conv ResNet"]
    assert [r["family"] for r in rows] == [f for f in families for _ in (1, 2, 4)]
    assert all(-1 <= r["mean_normalised_ntk"] <= 1 and r["spread"] > 0 and r["spread_se"] > 0 for r in rows)
    at = {(r["family"], r["depth"]): r for r in rows}
    assert all(at[(f, 1)]["spread_ratio"] == 1.0 and at[(f, 1)]["distance_to_depth1"] == 0.0 for f in families)
    # FFNets degenerate: the spread over pairs falls by depth 4 (conv and BatchNorm ones the fastest)
    for family in ("FFNet", "BatchNorm FFNet", "conv FFNet"):
        assert at[(family, 4)]["spread"] < 0.75 * at[(family, 1)]["spread"]
    assert at[("conv ResNet", 4)]["distance_to_depth1"] < 0.5 * at[("conv FFNet", 4)]["distance_to_depth1"]
    saved = json.loads((tmp_path / "huang_review_depth.json").read_text())
    assert saved["rows"] == rows and saved["settings"]["depths"] == [1, 2, 4] and saved["settings"]["width"] == 32
    assert (tmp_path / "huang_review_depth.png").stat().st_size > 0
    assert (tmp_path / "huang_review_depth.csv").read_text().startswith("family,depth,draws")


@pytest.mark.parametrize(("option", "match"), [(["--depths", "2,4"], "depths"), (["--draws", "2"], "draws"),
                                               (["--gamma", "3"], "gamma")])  # fmt: skip
def test_depth_sweep_bad_options_are_clear_errors(tmp_path, option, match):
    with pytest.raises(ValueError, match=match):
        huang_review_depth.main(["--out", str(tmp_path), *option])


def test_trained_vs_kernel_quick_run_writes_data_and_plot(tmp_path):
    rows, slopes = huang_review_trained_vs_kernel.main(["--out", str(tmp_path), "--budget", "quick", "--jobs", "1"])
    cases = ["FFNet L=2", "ResNet L=2 gamma=0.5", "ResNet L=2 gamma=1"]
    assert [(r["case"], r["width"]) for r in rows] == [(c, m) for c in cases for m in (16, 32, 64)]
    assert all(0 < r["ci_low"] <= r["geometric_mean"] <= r["ci_high"] and r["draws"] == 3 for r in rows)
    assert [s["case"] for s in slopes] == cases and all(s["ci_low"] < s["slope"] < s["ci_high"] for s in slopes)
    assert sum(s["slope"] for s in slopes) < 0  # the gap shrinks with width (3 networks, 20 steps: noisy)
    saved = json.loads((tmp_path / "huang_review_trained_vs_kernel.json").read_text())
    assert saved["slopes"] == slopes and saved["settings"]["steps"] == 20
    assert (tmp_path / "huang_review_trained_vs_kernel.png").stat().st_size > 0
    assert (tmp_path / "huang_review_trained_vs_kernel.csv").read_text().startswith("case,quantity,width")


def test_trained_vs_kernel_bad_option_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="widths"):
        huang_review_trained_vs_kernel.main(["--out", str(tmp_path), "--widths", "32,16"])
    with pytest.raises(ValueError, match="networks"):
        huang_review_trained_vs_kernel.main(["--out", str(tmp_path), "--networks", "1"])
