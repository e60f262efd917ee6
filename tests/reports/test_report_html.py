"""The HTML report: self-contained, every claim shown (twins in their own section), generic plots."""

import json
import math
import re

import pytest
from synthetic_ledgers import make_ledger, make_power, with_review_claims

from reports.__main__ import main
from reports.evidence import describe_example, number, region_text, support_region, sweep, varying_parameter
from reports.html import build_report
from reports.plots import calibration_figure, calibration_points, claim_figure, log_log_variable

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
    assert "no calibration figure" in page and "Suite-wide" not in page  # an older table: no predicted power


def test_power_table_shows_predicted_beside_observed_a_calibration_figure_and_the_suite_rate(ledger):
    power = make_power()
    page = build_report(ledger, power)
    section = page[page.index('<h2 id="power">') : page.index('<h2 id="claims">')]
    slope = section[section.index("<td>paper.slope</td>") :].split("</tr>", 1)[0]
    assert "0.45 [0.2306, 0.6847]" in slope and "0.900 ⚑</span>" in slope  # observed, then predicted (flagged)
    ratio = section[section.index("<td>paper.ratio</td>") :].split("</tr>", 1)[0]
    assert ">0.998</td>" in ratio and "⚑" not in ratio
    assert "predicted power (mean over seeds)" in section and section.count("<svg") == 1
    figure = calibration_figure(power)
    assert "calibration, all claims" in figure and "zoom: [0.8, 1]" in figure and "observed = predicted" in figure
    assert "paper.slope" in figure and "paper.ratio.twin" not in figure  # only claims off the diagonal are named
    assert "true claims (2)" in figure and "false twins (1)" in figure
    assert "some twin supported in <b>1/20</b> seeds" in section
    assert "Bonferroni, the sum of their alphas, 0.02" in section
    assert calibration_points({"claims": [{**power["claims"][0], "predicted_power": None}]}) == []
    assert calibration_figure({"claims": []}) == ""


def test_every_claim_shows_its_predicted_power_flagged_below_the_target(ledger):
    by_id = {c["id"]: c for c in ledger["claims"]}
    by_id["paper.ratio"]["predicted_power"] = 0.9999
    by_id["paper.ratio"]["predicted_power_detail"] = {
        "wanted": "supported", "supported": 0.9999, "refuted": 0.0,
        "limiting": {"example": 2, "label": "Wout", "power": 0.99995},
    }  # fmt: skip
    by_id["paper.slope"]["predicted_power"] = 0.9499  # rounded down: shown as 0.949, not as 0.950
    page = build_report(ledger)
    row = page[page.index('href="#claim-paper-ratio"') :].split("</tr>", 1)[0]
    assert ">0.999</td>" in row and "⚑" not in row
    slope = page[page.index('href="#claim-paper-slope"') :].split("</tr>", 1)[0]
    assert '<span class="flag" title="predicted power below 0.95">0.949 ⚑</span>' in slope
    growth = page[page.index('href="#claim-paper-growth"') :].split("</tr>", 1)[0]
    assert '<span class="muted">–</span>' in growth  # a ledger record without predicted power
    assert "1 claim(s) with predicted power below 0.95 ⚑: paper.slope" in page
    section = page[page.index('data-claim-id="paper.ratio"') :].split("</section>", 1)[0]
    assert "P(supported) 0.999, P(refuted) 0.000; limited by Wout in example 2 (power 0.999)" in section
    slope_section = page[page.index('data-claim-id="paper.slope"') :].split("</section>", 1)[0]
    assert "Below the power target 0.95: the Monte Carlo size should grow" in slope_section
    assert "written before predicted power was recorded" in page.split('data-claim-id="paper.growth"', 1)[1]
    assert "with predicted power below" not in build_report(make_ledger())  # none flagged when none recorded


def test_claims_answering_reviewers_questions_have_their_own_sections(ledger):
    ledger = with_review_claims(ledger)
    page = build_report(ledger)
    assert sorted(re.findall(r'data-claim-id="([^"]+)"', page)) == sorted(c["id"] for c in ledger["claims"])
    summary = page[page.index('<h2 id="summary-reviews">') : page.index('<h2 id="claims">')]
    assert 'href="#claim-paper2020-review-attention"' in summary and "twin of paper2020.review.attention" in summary
    reviews = page[page.index('<h2 id="reviews">') : page.index('<h2 id="environment">')]
    assert 'data-claim-id="paper2020.review.attention"' in reviews
    assert 'data-claim-id="paper2020.review.attention.twin"' in reviews
    before = page[: page.index('<h2 id="summary-reviews">')]
    between = page[page.index('<h2 id="claims">') : page.index('<h2 id="reviews">')]
    assert "review.attention" not in before + between  # not among the other claims and twins
    assert 'href="#reviews"' in page and "5 claims, 1 false twin, 2 answering reviewers' questions" in page
    assert 'id="reviews"' not in build_report(make_ledger())  # no such section without such claims


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
