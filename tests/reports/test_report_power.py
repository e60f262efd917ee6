"""The power table: verdict rates over master seeds with Clopper-Pearson intervals, end to end."""

import json

import numpy as np
import pytest
from hypothesis import strategies as st

import reports.power as power_module
from engine import Claim, PairedSample, RatioOfMeans, Sizes
from reports.__main__ import main
from reports.power import format_table, power_study, rate, summarise


def cheap_measure(ratio):
    def measure(example, mc):
        rng = np.random.default_rng(mc.seed)
        den = rng.exponential(size=(mc.n_draws, 1)) + example
        return PairedSample(ratio * den + 0.5 * rng.standard_normal(den.shape), den, ("a",))

    return measure


TRUE = Claim(
    id="toy.ratio", statement="E[num]/E[den] = 1", citation="test", draw=st.integers(0, 3), measure=cheap_measure(1.0),
    prediction=1.0, rule=RatioOfMeans(margin=0.1), n_draws=Sizes(4000, 4000, 4000), n_examples=Sizes(2, 2, 2),
)  # fmt: skip
TWIN = TRUE.twin(id="toy.ratio.twin", statement="FALSE TWIN: = 2", prediction=2.0)
WEAK = TRUE.twin(id="toy.ratio.weak-twin", statement="FALSE TWIN, too few draws", prediction=1.05,
                 n_draws=Sizes(20, 20, 20))  # fmt: skip


@pytest.fixture
def toy_registry(monkeypatch):
    claims = {c.id: c for c in (TRUE, TWIN, WEAK)}
    monkeypatch.setattr(power_module, "registered", lambda: claims)
    return claims


def test_clopper_pearson_interval_is_statsmodels_beta():
    assert rate(10, 10, 0.95)[1] == pytest.approx([0.6915, 1.0], abs=1e-4)
    assert rate(0, 20, 0.95)[1] == pytest.approx([0.0, 0.1684], abs=1e-4)


def test_statuses_against_target_and_alpha(toy_registry):
    runs = [{"id": "toy.ratio", "master_seed": s, "verdict": "supported", "seconds": 1.0} for s in range(100)]
    runs += [{"id": "toy.ratio.twin", "master_seed": s, "verdict": "supported", "seconds": 1.0} for s in range(10)]
    table = {c["id"]: c for c in summarise(runs, target=0.95, confidence=0.95)}
    assert table["toy.ratio"]["status"] == "meets target"  # 100/100: lower CP end 0.964
    assert table["toy.ratio"]["error_rate"]["status"] == "consistent with alpha"
    twin = table["toy.ratio.twin"]
    assert twin["wanted"] == "refuted" and twin["status"] == "below target"
    assert twin["error_rate"] == {"verdict": "supported", "rate": 1.0, "ci": pytest.approx([0.6915, 1.0], abs=1e-4),
                                  "status": "exceeds alpha"}  # fmt: skip


def test_power_study_runs_claims_under_each_seed(toy_registry):
    calls = []
    power = power_study(list(toy_registry), seeds=[1, 2, 3], device="cpu", progress=calls.append)
    assert len(calls) == 9 and power["run"]["seeds"] == [1, 2, 3]
    table = {c["id"]: c for c in power["claims"]}
    assert table["toy.ratio"]["counts"]["supported"] == 3 and table["toy.ratio.twin"]["counts"]["refuted"] == 3
    assert table["toy.ratio.weak-twin"]["rate"] < 1  # 20 draws cannot refute a 5% discrepancy every time
    assert [r["master_seed"] for r in table["toy.ratio"]["runs"]] == [1, 2, 3]
    assert len({r["estimate"] for r in table["toy.ratio"]["runs"]}) == 3  # seeds change the draws
    assert "toy.ratio.twin" in format_table(power)


def test_power_command_writes_json_and_rejects_bad_input(toy_registry, tmp_path, capsys):
    out = tmp_path / "power.json"
    assert main(["power", "--seeds", "2", "--claims", "toy.ratio.t*", "--device", "cpu", "-o", str(out)]) == 0
    assert [c["id"] for c in json.loads(out.read_text())["claims"]] == ["toy.ratio.twin"]
    assert main(["power", "--seeds", "1", "--claims", "no-such-claim", "-o", str(out)]) == 2
    assert "no-such-claim" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs"):
        power_study(["toy.ratio"], [1], jobs=0)
    with pytest.raises(ValueError, match="budget"):
        power_study(["toy.ratio"], [1], budget="huge")
    with pytest.raises(SystemExit):
        main(["power", "--seeds", "0"])
