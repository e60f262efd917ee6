"""Smoke tests: the Littwin experiment scripts run at tiny sizes and write data and a plot; the
Gram-only NTK of the Sec. 6.2 script equals the per-matrix factorised NTK."""

import json

import pytest
import torch

from estimators.ntk import ntk_of_weights
from estimators.sampling import draw_weights
from experiments import littwin_fig3a, littwin_fig4a, littwin_sec62
from models import DenseNet, LittwinResNet, VanillaNet


def test_fig3a_tiny_run_writes_data_and_plot(tmp_path):
    tiny = ["--depths", "1,3", "--draws", "200", "--width", "16", "--jobs", "1"]
    rows = littwin_fig3a.main(["--out", str(tmp_path), *tiny])
    assert {r["architecture"] for r in rows} == {"vanilla", "resnet", "densenet"} and len(rows) == 6
    assert all(r["V_diag"] > 0 and r["se_diag"] > 0 for r in rows)
    data = json.loads((tmp_path / "littwin_fig3a.json").read_text())
    assert len(data["rows"]) == 6 and len(data["settings"]["inputs"][0]) == 16  # input dim n0 = n
    assert (tmp_path / "littwin_fig3a.png").stat().st_size > 0 and (tmp_path / "littwin_fig3a.csv").exists()


def test_fig4a_tiny_run_sweeps_branch_depth(tmp_path):
    tiny = ["--depths", "1,2", "--draws", "100", "--width", "8", "--jobs", "1"]
    rows = littwin_fig4a.main(["--out", str(tmp_path), *tiny])
    assert len(rows) == 4 and (tmp_path / "littwin_fig4a.png").exists()
    assert sorted({r["x"] for r in rows}) == [1, 2] and {r["architecture"] for r in rows} == {"resnet L=4",
                                                                                               "resnet L=10"}
    assert littwin_fig4a.parse(["--out", str(tmp_path)], littwin_fig4a.BRANCH_DEPTHS).depths == (1, 2, 4)


def test_sec62_quick_run_beats_chance(tmp_path):
    rows = littwin_sec62.main(["--budget", "quick", "--out", str(tmp_path), "--jobs", "1"])
    assert len(rows) == 6 * 16  # 3 architectures x 2 depths x 16 single-network kernels
    assert sum(r["accuracy"] for r in rows) / len(rows) > 0.3  # 10 classes: chance is 0.1
    summary = json.loads((tmp_path / "littwin_sec62.json").read_text())["summary"]
    assert len(summary) == 6 and (tmp_path / "littwin_sec62.png").exists()


@pytest.mark.parametrize(
    "spec",
    [DenseNet(5, 4, 7, 0.5), LittwinResNet(5, 3, 2, 6, (0.2, 1.0, 0.5)), VanillaNet(5, 3, (6, 4, 5, 3))],
    ids=repr,
)
def test_gram_without_per_matrix_blocks_is_the_ntk(spec):
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    weights = draw_weights(spec, 3, 0, 1)
    reference = ntk_of_weights(spec, weights, x)[1].sum(1)
    (gram,) = littwin_sec62.gram_of_weights(spec, weights, x)
    assert (gram - reference).abs().max() <= 1e-12 * reference.abs().max()


def test_bad_option_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="draws"):
        littwin_fig3a.main(["--out", str(tmp_path), "--draws", "1"])
    with pytest.raises(ValueError, match="digits"):
        littwin_sec62.main(["--out", str(tmp_path), "--train", "1500", "--test", "500"])
