"""The HTML report: self-contained, every claim shown (twins in their own section), generic plots."""

import json
import math
import re

import pytest

from reports.__main__ import main
from reports.evidence import describe_example, number, region_text, support_region, sweep, varying_parameter
from reports.html import build_report
from reports.plots import claim_figure, log_log_variable

pytestmark = pytest.mark.filterwarnings("error")  # the report code must not warn (matplotlib included)


def test_report_is_self_contained_and_shows_every_claim_twins_apart(ledger):
    page = build_report(ledger)
    ids = re.findall(r'data-claim-id="([^"]+)"', page)
    assert sorted(ids) == sorted(c["id"] for c in ledger["claims"])
    twins_at = page.index('<h2 id="twins">')
    assert page.index('data-claim-id="paper.ratio.twin"') > twins_at > page.index('data-claim-id="paper.ratio"')
    summary_twins_at = page.index('<h2 id="summary-twins">')
    assert page.index('href="#claim-paper-ratio-twin"') > summary_twins_at > page.index('href="#claim-paper-ratio"')
    assert "<script" not in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<b>escaped</b>" not in page and "&lt;b&gt;escaped&lt;/b&gt;" in page
    assert "2.13.0+cpu" in page and "tests/test_claims.py::test_claim[paper.slope]" in page
    assert page.count("<svg") == len(ledger["claims"])
    assert "1 claim(s) not as required: paper.unknown-rule" in page


def test_summary_shows_estimate_interval_prediction_region_samples_and_time(ledger):
    page = build_report(ledger)
    row = page[page.index('href="#claim-paper-ratio"') :].split("</tr>", 1)[0]
    assert "Someone et al., 2021, Thm 1" in row and 'class="badge supported"' in row
    assert "1.08 [0.95, 1.1]" in row and "vs 1; support region [0.9, 1.1]" in row
    assert "3,000" in row and "3 examples" in row and "1.5 s" in row
    growth = page[page.index('href="#claim-paper-growth"') :].split("</tr>", 1)[0]
    assert "support region &gt;= 0" in growth and "1 example<" in growth


def test_progress_wraps_the_claim_sections(ledger):
    seen = []

    def progress(records):
        seen.extend(r["id"] for r in records)
        return records

    build_report(ledger, progress=progress)
    assert sorted(seen) == sorted(c["id"] for c in ledger["claims"])


def test_log_log_slope_claims_get_a_scaling_law_panel_over_the_swept_widths(ledger):
    by_id = {c["id"]: c for c in ledger["claims"]}
    assert log_log_variable(by_id["paper.slope"]) == "width" and log_log_variable(by_id["paper.ratio"]) is None
    assert log_log_variable({"examples": [{"comparisons": [{"label": "d log spread / d log L"}]}]}) == "depth"
    slope_svg = claim_figure(by_id["paper.slope"])
    assert "scaling law on log-log axes" in slope_svg and "predicted slope -0.5" in slope_svg
    assert "width (swept by the decisive example)" in slope_svg and "support region of slopes" in slope_svg
    assert "scaling law" not in claim_figure(by_id["paper.ratio"])
    same_law = claim_figure(by_id["tool.same-law"])
    for panel in ("KS per example", "mean per example", "variance per example"):
        assert panel in same_law
    assert "example parameter spec.width" in same_law
    assert claim_figure({**by_id["paper.ratio"], "examples": []}) == ""


def test_support_regions_follow_the_rules():
    assert support_region({"name": "RatioOfMeans", "margin": 0.1}, "W0", 2.0) == pytest.approx((1.8, 2.2))
    assert support_region({"name": "RatioOfMeans", "margin": 0.1}, "W0", -1.0) == pytest.approx((-1.1, -0.9))
    assert support_region({"name": "InRegion", "low": 0.0, "high": "inf", "tolerance": 0}, "s", 1.0) == (1.0, math.inf)
    widened = support_region({"name": "InRegion", "low": "-inf", "high": 0.0, "tolerance": 1.0}, "s", 0.0)
    assert widened == (-math.inf, 1.0)  # support shows the quantity inside the region widened by the tolerance
    same_law = {"name": "SameLaw", "margin": 0.1, "variance_margin": 0.15}
    assert support_region(same_law, "f: mean", 0.0) == (-0.1, 0.1)
    assert support_region(same_law, "f: variance", 1.0) == pytest.approx((0.85, 1.15))
    assert support_region(same_law, "f: KS", 0.0) is None
    assert support_region({"name": "Unknown"}, "x", 1.0) is None and support_region(None, "x", 1.0) is None
    assert region_text((0.05, 0.95)) == "[0.05, 0.95]" and region_text((-math.inf, 1.0)) == "<= 1"
    assert region_text((0.0, math.inf)) == ">= 0" and region_text(None) == "" and region_text((1.0, 1.0)) == ""


def test_example_parameters_prefer_width_and_skip_constants_and_collisions():
    examples = [{"spec": {"input_dim": d, "width": w, "depth": 2, "seed": s}} for d, w, s in ((1, 8, 5), (2, 16, 6))]
    assert varying_parameter(examples) == ("spec.width", [8.0, 16.0])
    assert varying_parameter([{"spec": {"depth": 2}}] * 3) is None
    collide = [{"spec": {"width": w, "depth": d}} for w, d in ((8, 1), (8, 2), (16, 3))]
    assert varying_parameter(collide) == ("spec.depth", [1.0, 2.0, 3.0])  # width repeats: two points would overlap
    assert varying_parameter([{"width": 8}, {"width": 8}]) is None
    assert varying_parameter([1, 2, 3]) == ("value", [1.0, 2.0, 3.0])
    assert sweep({"widths": [64, 128]}, "width") == [64.0, 128.0] and sweep({"widths": [64]}, "width") is None
    assert sweep({"depths": [0, 2]}, "depth") is None and sweep([1, 2], "width") is None
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
    assert 'href="#power"' in page and 'href="#power"' not in build_report(ledger)


def test_build_command_writes_the_report_and_rejects_bad_input(ledger, tmp_path, capsys):
    source, target = tmp_path / "ledger.json", tmp_path / "out" / "report.html"
    source.write_text(json.dumps(ledger))
    assert main(["build", str(source), "-o", str(target)]) == 0
    assert "paper.growth" in target.read_text() and "(6 claims)" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("[1]")
    assert main(["build", str(tmp_path / "bad.json"), "-o", str(target)]) == 2
    assert "not a claims ledger" in capsys.readouterr().err
    assert main(["build", str(source), "--power", str(source), "-o", str(target)]) == 2
    assert "not a power table" in capsys.readouterr().err
    assert main(["build", str(source), "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
