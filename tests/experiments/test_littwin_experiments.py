"""Smoke tests: the Littwin experiment scripts run at tiny sizes and write data and a plot."""

import json

import pytest

from experiments import littwin_fig3a, littwin_fig4a, littwin_sec62


def test_fig3a_tiny_run_writes_data_and_plot(tmp_path):
    rows = littwin_fig3a.main(["--out", str(tmp_path), "--depths", "1,3", "--draws", "200", "--width", "16"])
    assert {r["architecture"] for r in rows} == {"vanilla", "resnet", "densenet"} and len(rows) == 6
    assert all(r["V_diag"] > 0 for r in rows)
    assert len(json.loads((tmp_path / "littwin_fig3a.json").read_text())["rows"]) == 6
    assert (tmp_path / "littwin_fig3a.png").stat().st_size > 0 and (tmp_path / "littwin_fig3a.csv").exists()


def test_fig4a_tiny_run(tmp_path):
    rows = littwin_fig4a.main(["--out", str(tmp_path), "--depths", "1,2", "--draws", "100", "--width", "8"])
    assert len(rows) == 4 and (tmp_path / "littwin_fig4a.png").exists()


def test_sec62_quick_run_beats_chance(tmp_path):
    rows = littwin_sec62.main(["--budget", "quick", "--out", str(tmp_path)])
    assert len(rows) == 6 and max(r["accuracy"] for r in rows) > 0.3  # 10 classes: chance is 0.1


def test_bad_option_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="draws"):
        littwin_fig3a.main(["--out", str(tmp_path), "--draws", "1"])
