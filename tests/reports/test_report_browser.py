"""The report in a real browser: headless Chromium loads it without console errors or network
requests and shows every claim; a screenshot is kept under reports/artifacts/ (gitignored)."""

from pathlib import Path

import pytest

from engine.ledger import read_ledger
from reports.browser import check_page, find_browser
from reports.html import write_report

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "reports" / "artifacts"

needs_browser = pytest.mark.skipif(
    find_browser() is None,
    reason="no Chromium-family browser installed (.ci/run installs Debian's chromium with apt-get when it can; "
    "or set $CHROMIUM)",
)


@needs_browser
def test_the_baseline_report_opens_cleanly_and_shows_every_claim():
    ledger = read_ledger(ROOT / "reports" / "baseline.json")
    page = write_report(ARTIFACTS / "report.html", ledger)
    check = check_page(page, screenshot_dir=ARTIFACTS)
    assert check.console_errors == []
    assert check.external_requests == [] and check.requests == [page.resolve().as_uri()]
    assert sorted(check.visible_claims) == sorted(c["id"] for c in ledger["claims"])
    assert check.title.startswith("NTK claims")
    assert all(shot.stat().st_size > 10_000 and shot.read_bytes()[:4] == b"\x89PNG" for shot in check.screenshots)


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


@needs_browser
def test_check_command_requires_every_ledger_claim(tmp_path, capsys):
    from reports.__main__ import main

    ledger_path = ROOT / "reports" / "baseline.json"
    page = write_report(tmp_path / "report.html", read_ledger(ledger_path))
    assert main(["check", str(page), "--ledger", str(ledger_path), "--screenshots", str(tmp_path)]) == 0
    other = tmp_path / "partial.html"
    other.write_text('<!DOCTYPE html><html><head><title>x</title></head><body><p>no claims</p></body></html>')
    assert main(["check", str(other), "--ledger", str(ledger_path), "--screenshots", str(tmp_path)]) == 1
    assert "claim not shown: littwin2021.thm2.duality.vanilla" in capsys.readouterr().out
