"""The report in a real browser: headless Chromium loads it without console errors or network
requests and shows every claim. Screenshots are kept under reports/artifacts/ (gitignored) and listed
at the end of the pytest run ("artifact: ..."). .ci/run installs Debian's chromium; without a browser
these tests skip with the reason."""

import json
from pathlib import Path

import pytest
from synthetic_ledgers import make_power, with_review_claims

from engine.ledger import read_ledger
from reports.browser import check_page, find_browser
from reports.html import write_report

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "reports" / "artifacts"

needs_browser = pytest.mark.skipif(
    find_browser() is None,
    reason="no Chromium-family browser installed (.ci/run installs Debian's chromium with apt-get when it can; "
    "or set $CHROMIUM to a browser binary)",
)


def assert_clean_and_complete(check, page, ledger):
    assert check.console_errors == []
    assert check.external_requests == [] and check.requests == [page.resolve().as_uri()]
    assert sorted(check.visible_claims) == sorted(c["id"] for c in ledger["claims"])
    assert check.title.startswith("NTK claims")


@needs_browser
@pytest.mark.parametrize("source", ["baseline", "every-rule-kind"])
def test_the_report_opens_cleanly_and_shows_every_claim(source, ledger, record_property):
    """The committed baseline (the whole suite's quick ledger) and a synthetic ledger with every rule
    kind the report draws (ratio, same law, slopes with a log-log panel, one-sided regions, inf ends),
    claims answering reviewers' questions and a power table with its calibration figure."""
    chosen = read_ledger(ROOT / "reports" / "baseline.json") if source == "baseline" else with_review_claims(ledger)
    page = write_report(ARTIFACTS / f"report-{source}.html", chosen, None if source == "baseline" else make_power())
    check = check_page(page, screenshot_dir=ARTIFACTS)
    assert_clean_and_complete(check, page, chosen)
    names = [shot.name for shot in check.screenshots]
    assert names == [f"report-{source}-top.png", f"report-{source}-summary.png", f"report-{source}-full.png"]
    for shot in check.screenshots:
        assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 10_000
    record_property("artifact", str(check.screenshots[1]))  # the summary: every claim, its verdict and estimate


@needs_browser
def test_the_check_sees_console_errors_hidden_claims_and_network(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>broken</title></head><body>"
        '<section data-claim-id="shown">shown</section>'
        '<section data-claim-id="hidden" style="display:none">hidden</section>'
        '<img src="http://127.0.0.1:9/nothing.png">'
        "<script>console.error('boom'); undefinedFunction();</script></body></html>"
    )
    check = check_page(page)
    assert check.visible_claims == ["shown"]
    assert any("boom" in e for e in check.console_errors)
    assert any("undefinedFunction" in e for e in check.console_errors)
    assert check.external_requests == ["http://127.0.0.1:9/nothing.png"]


def test_a_missing_page_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        check_page(tmp_path / "nope.html")


def test_no_browser_is_a_clear_error(tmp_path, monkeypatch):
    from reports.__main__ import main

    (tmp_path / "page.html").write_text("<!DOCTYPE html><title>x</title>")
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(FileNotFoundError, match="no Chromium-family browser"):
        check_page(tmp_path / "page.html")
    assert main(["check", str(tmp_path / "page.html")]) == 2


@needs_browser
def test_check_command_requires_every_ledger_claim(ledger, tmp_path, capsys):
    from reports.__main__ import main

    ledger_path = tmp_path / "ledger.json"
    ledger_path.write_text(json.dumps(ledger))
    page = write_report(tmp_path / "report.html", ledger)
    assert main(["check", str(page), "--ledger", str(ledger_path), "--screenshots", str(tmp_path)]) == 0
    assert "every ledger claim shown" in capsys.readouterr().out
    other = tmp_path / "partial.html"
    other.write_text("<!DOCTYPE html><html><head><title>x</title></head><body><p>no claims</p></body></html>")
    assert main(["check", str(other), "--ledger", str(ledger_path), "--screenshots", str(tmp_path)]) == 1
    assert "claim not shown: paper.ratio" in capsys.readouterr().out
