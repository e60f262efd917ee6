"""Smoke test of the Hanin & Nica constant experiment, and the pair-counting model's exact cases."""

import json
import math

import pytest

from experiments import hanin_nica_constant
from theorems.hanin_nica_setting import first_order_constant, pair_model_limit, pair_model_log_eta


def test_quick_run_writes_fits_extrapolation_and_plot(tmp_path):
    payload = hanin_nica_constant.main(["--out", str(tmp_path), "--draws", "200", "--jobs", "1"])
    assert {r["setting"] for r in payload["rows"]} == {"littwin", "hanin-nica"}
    assert len(payload["fits"]) == 2 * 3 and set(payload["extrapolation"]) == {"littwin", "hanin-nica"}
    assert all(math.isfinite(f["C"]) and f["C_se"] > 0 for f in payload["fits"])
    assert payload["extrapolation"]["littwin"]["C_0_model"] == pytest.approx(11 / 3)
    slopes = [s["local_slope"] for s in payload["model_slopes"] if s["setting"] == "hanin-nica"]
    assert slopes == sorted(slopes) and slopes[0] == pytest.approx(2.25) and slopes[-1] < 5
    data = json.loads((tmp_path / "hanin_nica_constant.json").read_text())
    assert len(data["rows"]) == len(payload["rows"]) and (tmp_path / "hanin_nica_constant.png").stat().st_size > 0


@pytest.mark.parametrize("width", [8, 50, 1000])
def test_pair_model_is_exact_for_one_hidden_layer(width):
    """Weights only, one hidden layer: K = (2r/n) chi^2_{2N}, eta = 1 + 3/n exactly."""
    assert pair_model_log_eta((width,), 1.0, biases=False) == pytest.approx(math.log1p(3 / width), rel=1e-12)


@pytest.mark.parametrize("ratio", [None, 0.5, 1.0, 2.0])
def test_first_order_constant_is_the_model_slope_at_zero(ratio):
    assert pair_model_limit(1e-4, ratio, grid=2000) / 1e-4 == pytest.approx(first_order_constant(ratio), rel=2e-3)
    deep = pair_model_log_eta((10**6,) * 400, 1.0 if ratio is None else ratio, biases=ratio is not None) / 4e-4
    assert deep == pytest.approx(first_order_constant(ratio), rel=1e-2)


def test_bad_option_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="widths"):
        hanin_nica_constant.main(["--out", str(tmp_path), "--widths", "16,24"])
