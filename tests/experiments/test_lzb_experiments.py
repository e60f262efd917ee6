"""Smoke test: the LZB Hessian-scaling script runs at tiny sizes and writes data and a plot."""

import json

import pytest

from experiments import lzb_hessian_scaling


def test_tiny_run_writes_data_and_plot(tmp_path):
    rows, slopes = lzb_hessian_scaling.main(
        ["--out", str(tmp_path), "--widths", "8,16", "--draws", "2", "--steps", "2", "--depth", "1", "--jobs", "1"]
    )
    assert {r["case"] for r in rows} == {"linear output", "softplus output", "tanh output", "bottleneck b=2"}
    assert len(rows) == 4 * 3 * 2 and len(slopes) == 4 * 3
    assert all(r["geometric_mean"] > 0 and r["draws"] == 2 for r in rows)
    saved = json.loads((tmp_path / "lzb_hessian_scaling.json").read_text())
    assert saved["rows"] == rows and saved["settings"]["widths"] == [8, 16]
    assert (tmp_path / "lzb_hessian_scaling.png").stat().st_size > 0
    assert (tmp_path / "lzb_hessian_scaling.csv").read_text().startswith("case,quantity,width")


def test_bad_option_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="draws"):
        lzb_hessian_scaling.main(["--out", str(tmp_path), "--draws", "1"])
    with pytest.raises(ValueError, match="two distinct widths"):
        lzb_hessian_scaling.main(["--out", str(tmp_path), "--widths", "8,8"])
