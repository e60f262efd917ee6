"""The HTML report: self-contained, every claim shown (twins in their own section), generic plots."""

import json
import math
import re

import pytest

from reports.__main__ import main
from reports.evidence import describe_example, number, support_region, varying_parameter
from reports.html import build_report
from reports.plots import claim_figure


def test_report_is_self_contained_and_shows_every_claim_twins_apart(ledger):
    page = build_report(ledger)
    ids = re.findall(r'data-claim-id="([^"]+)"', page)
    assert sorted(ids) == sorted(c["id"] for c in ledger["claims"])
    twins_at = page.index('<h2 id="twins">')
    assert page.index('data-claim-id="paper.ratio.twin"') > twins_at > page.index('data-claim-id="paper.ratio"')
    assert "<script" not in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<b>escaped</b>" not in page and "&lt;b&gt;escaped&lt;/b&gt;" in page
    assert "2.13.0+cpu" in page and "tests/test_claims.py::test_claim[paper.slope]" in page
    assert page.count("<svg") == len(ledger["claims"])
    assert "1 claim(s) not as required: paper.unknown-rule" in page


def test_slope_claims_get_a_log_log_panel_and_regions_are_shaded(ledger):
    by_id = {c["id"]: c for c in ledger["claims"]}
    slope_svg = claim_figure(by_id["paper.slope"])
    assert "scaling laws implied by the fitted slopes" in slope_svg and "predicted slope -0.5" in slope_svg
    assert "scaling laws" not in claim_figure(by_id["paper.ratio"])
    same_law = claim_figure(by_id["tool.same-law"])
    for panel in ("KS per example", "mean per example", "variance per example"):
        assert panel in same_law
    assert "example parameter spec.width" in same_law
    assert claim_figure({**by_id["paper.ratio"], "examples": []}) == ""


def test_support_regions_follow_the_rules():
    assert support_region({"name": "RatioOfMeans", "margin": 0.1}, "W0", 2.0) == pytest.approx((1.8, 2.2))
    assert support_region({"name": "RatioOfMeans", "margin": 0.1}, "W0", -1.0) == pytest.approx((-1.1, -0.9))
    assert support_region({"name": "InRegion", "low": 0.0, "high": "inf", "tolerance": 0}, "s", 1.0) == (1.0, math.inf)
    same_law = {"name": "SameLaw", "margin": 0.1, "variance_margin": 0.15}
    assert support_region(same_law, "f: mean", 0.0) == (-0.1, 0.1)
    assert support_region(same_law, "f: variance", 1.0) == pytest.approx((0.85, 1.15))
    assert support_region(same_law, "f: KS", 0.0) is None
    assert support_region({"name": "Unknown"}, "x", 1.0) is None and support_region(None, "x", 1.0) is None


def test_example_parameters_prefer_width_and_skip_constants():
    examples = [{"spec": {"input_dim": d, "width": w, "depth": 2, "seed": s}} for d, w, s in ((1, 8, 5), (2, 16, 6))]
    assert varying_parameter(examples) == ("spec.width", [8.0, 16.0])
    assert varying_parameter([{"spec": {"depth": 2}}] * 3) is None
    assert varying_parameter([1, 2, 3]) == ("value", [1.0, 2.0, 3.0])
    assert "vanilla(depth=2" in describe_example({"spec": {"kind": "vanilla", "depth": 2}, "inputs": [[1.0]]})
    assert number("inf") == math.inf and math.isnan(number("nan")) and math.isnan(number(None))


def test_power_table_goes_into_the_report(ledger):
    power = {
        "run": {"seeds": [1, 2], "budget": "quick", "device": "cpu", "target": 0.95, "confidence": 0.95},
        "claims": [{
            "id": "paper.ratio", "twin_of": None, "alpha": 0.01, "wanted": "supported", "n_seeds": 2,
            "counts": {"supported": 2, "inconclusive": 0, "refuted": 0}, "rate": 1.0, "ci": [0.158, 1.0],
            "status": "consistent with target (more seeds needed)",
            "error_rate": {"verdict": "refuted", "rate": 0.0, "ci": [0.0, 0.84], "status": "consistent with alpha"},
        }],
    }  # fmt: skip
    page = build_report(ledger, power)
    assert '<h2 id="power">' in page and "consistent with target (more seeds needed)" in page


def test_build_command_writes_the_report_and_rejects_bad_input(ledger, tmp_path, capsys):
    source, target = tmp_path / "ledger.json", tmp_path / "out" / "report.html"
    source.write_text(json.dumps(ledger))
    assert main(["build", str(source), "-o", str(target)]) == 0
    assert "paper.growth" in target.read_text()
    (tmp_path / "bad.json").write_text("[1]")
    assert main(["build", str(tmp_path / "bad.json"), "-o", str(target)]) == 2
    assert "not a claims ledger" in capsys.readouterr().err
    assert main(["build", str(source), "--power", str(source), "-o", str(target)]) == 2
    assert "not a power table" in capsys.readouterr().err
