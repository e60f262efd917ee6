"""``pytest --claims-report PATH`` writes the HTML report at the end of a run, serial and under xdist."""

import pytest

pytest_plugins = ["pytester"]

CLAIMS_MODULE = """
import numpy as np
from hypothesis import strategies as st
from engine import Claim, PairedSample, RatioOfMeans, Sizes

def measure(example, mc):
    rng = np.random.default_rng(mc.seed)
    den = rng.exponential(size=(mc.n_draws, 1)) + example
    return PairedSample(den + 0.5 * rng.standard_normal(den.shape), den, ("a",))

TRUE = Claim(id="toy", statement="toy", citation="test", draw=st.integers(0, 3), measure=measure, prediction=1.0,
             rule=RatioOfMeans(margin=0.1), n_draws=Sizes(4000, 4000, 4000), n_examples=Sizes(2, 2, 2))
CLAIMS = {c.id: c for c in [TRUE, TRUE.twin(id="toy.twin", statement="FALSE TWIN", prediction=2.0)]}
"""

TEST_MODULE = """
import pytest
from claims_under_test import CLAIMS

@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim(claim_id, check_claim):
    check_claim(CLAIMS[claim_id])
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_claims_report_option_writes_the_report(pytester, workers):
    pytester.makepyfile(claims_under_test=CLAIMS_MODULE, test_sandbox=TEST_MODULE)
    pytester.makeconftest('pytest_plugins = ["engine.plugin"]')
    pytester.syspathinsert()
    flags = workers or ["-p", "no:xdist"]
    result = pytester.runpytest(*flags, "--claims-ledger", "ledger.json", "--claims-report", "out/report.html")
    result.assert_outcomes(passed=2)
    page = (pytester.path / "out" / "report.html").read_text()
    assert 'data-claim-id="toy"' in page and 'data-claim-id="toy.twin"' in page
    result.stdout.fnmatch_lines(["*report: *out/report.html"])


def test_no_report_without_the_option(pytester):
    pytester.makepyfile(claims_under_test=CLAIMS_MODULE, test_sandbox=TEST_MODULE)
    pytester.makeconftest('pytest_plugins = ["engine.plugin"]')
    pytester.syspathinsert()
    pytester.runpytest("-p", "no:xdist", "--claims-ledger", "ledger.json").assert_outcomes(passed=2)
    assert not list(pytester.path.rglob("*.html"))


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_artifacts_recorded_by_tests_are_listed_at_the_end(pytester, workers):
    pytester.makepyfile(
        test_shots='def test_shot(record_property):\n    record_property("artifact", "shots/page.png")\n'
    )
    pytester.makeconftest('pytest_plugins = ["engine.plugin"]')
    result = pytester.runpytest(*workers)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["artifact: shots/page.png"])
