"""Smoke tests: the LZB review experiment scripts (issue 18, items 5-7) run at tiny sizes, write data and
plots, and show what they are about."""

import json

import numpy as np
import pytest

from experiments import lzb_review_losses, lzb_review_softmax_attention


def test_softmax_attention_quick_run_writes_data_and_plot(tmp_path):
    rows, slopes = lzb_review_softmax_attention.main(["--out", str(tmp_path), "--budget", "quick", "--jobs", "1"])
    cases = ["linear output", "softmax output (4 logits)", "attention 1/sqrt(m)", "attention 1/m"]
    assert list(dict.fromkeys(r["case"] for r in rows)) == cases and len(rows) == 4 * 3
    assert all(0 < r["ci_low"] <= r["geometric_mean"] <= r["ci_high"] and r["draws"] == 3 for r in rows)
    slope = {s["case"]: s for s in slopes}
    assert slope["linear output"]["ci_low"] < -0.5 < slope["linear output"]["ci_high"]  # Thm 3.2's m^-1/2
    assert slope["softmax output (4 logits)"]["slope"] > slope["linear output"]["slope"]  # vanishes slower
    saved = json.loads((tmp_path / "lzb_review_softmax_attention.json").read_text())
    assert saved["rows"] == rows and saved["settings"]["attention_widths"] == [8, 16, 32]
    assert (tmp_path / "lzb_review_softmax_attention.png").stat().st_size > 0
    assert (tmp_path / "lzb_review_softmax_attention.csv").read_text().startswith("case,quantity,width")


def test_losses_quick_run_writes_data_and_plot(tmp_path):
    data = lzb_review_losses.main(["--out", str(tmp_path), "--budget", "quick", "--jobs", "1"])
    rows, slopes, pl_star = data["rows"], data["slopes"], data["pl_star"]
    losses = ("square", "logistic", "hinge")
    assert [(r["loss"], r["width"]) for r in rows] == [(loss, m) for loss in losses for m in (16, 32, 64)]
    assert all(r["loss_ratio"] < 1 for r in rows)  # every loss decreases
    assert all(s["slope"] < 0 for s in slopes)  # the kernel moves less in wider nets, under every loss
    assert len(data["curves"]) == 9 and all(len(c["mean_loss_ratio"]) == 11 for c in data["curves"])
    assert len(pl_star) == 4 and all(0.5 < r["ratio"] < 2 and r["log10_loss_ratio"][0] < -2 for r in pl_star)
    assert all(np.isclose(np.mean(r["ratios"]), r["ratio"]) for r in pl_star)
    saved = json.loads((tmp_path / "lzb_review_losses.json").read_text())
    assert saved["slopes"] == slopes and saved["settings"]["pl_steps"] == 40
    assert (tmp_path / "lzb_review_losses.png").stat().st_size > 0
    assert (tmp_path / "lzb_review_losses.csv").read_text().startswith("case,quantity,width")


@pytest.mark.parametrize(
    ("script", "option", "match"),
    [
        (lzb_review_softmax_attention, ["--attention-widths", "8"], "attention-widths"),
        (lzb_review_softmax_attention, ["--classes", "1"], "classes"),
        (lzb_review_losses, ["--datasets", "mnist"], "datasets"),
        (lzb_review_losses, ["--pl-steps", "2"], "pl-steps"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path, script, option, match):
    with pytest.raises(ValueError, match=match):
        script.main(["--out", str(tmp_path), *option])
