"""The pytest integration, run in a sandbox with pytester: verdicts map to outcomes, the
ledger is written (identically serial and under xdist), failures say how to reproduce."""

import json

import pytest

pytest_plugins = ["pytester"]

CLAIMS_MODULE = '''
import numpy as np
from hypothesis import strategies as st
from engine import Claim, PairedSample, RatioOfMeans, Sizes

def draws(ratio):
    def measure(example, mc):
        rng = np.random.default_rng(mc.seed)
        den = rng.exponential(size=(mc.n_draws, 2)) + example
        return PairedSample(ratio * den + rng.standard_normal(den.shape), den, ("a", "b"))
    return measure

def claim(id, ratio, n_draws=20_000, twin_of=None, prediction=1.0):
    return Claim(id=id, statement=id, citation="test", draw=st.integers(0, 3), measure=draws(ratio),
                 prediction=prediction, rule=RatioOfMeans(margin=0.1), twin_of=twin_of,
                 n_draws=Sizes(n_draws, n_draws, n_draws), n_examples=Sizes(4, 4, 4))

CLAIMS = {c.id: c for c in [
    claim("true", 1.0), claim("true.twin", 1.0, twin_of="true", prediction=2.0),
    claim("false", 1.5), claim("weak", 1.0, n_draws=10), claim("weak.twin", 1.0, n_draws=10, twin_of="weak"),
]}
'''

TEST_MODULE = '''
import pytest
from claims_under_test import CLAIMS

@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim(claim_id, check_claim):
    check_claim(CLAIMS[claim_id])
'''


@pytest.fixture
def sandbox(pytester):
    pytester.makepyfile(claims_under_test=CLAIMS_MODULE, test_sandbox=TEST_MODULE)
    pytester.makeconftest('pytest_plugins = ["engine.plugin"]')
    pytester.syspathinsert()
    return pytester


def outcomes(result):
    reports = result.getreports("pytest_runtest_logreport")
    return {
        r.nodeid.split("[")[1].rstrip("]"): r.outcome for r in reports if r.when == "call" or r.outcome == "skipped"
    }


def test_verdicts_map_to_outcomes_and_failures_say_how_to_reproduce(sandbox, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = sandbox.inline_run("-p", "no:xdist", "--claims-ledger", "ledger.json", "--no-strict-claims")
    assert outcomes(result) == {
        "true": "passed", "true.twin": "passed", "false": "failed", "weak": "skipped", "weak.twin": "skipped",
    }
    failure = next(r for r in result.getfailures() if "false]" in r.nodeid)
    assert "REFUTED" in failure.longreprtext and "reproduce: pytest -p no:xdist" in failure.longreprtext
    assert "--claims-seed 0" in failure.longreprtext


def test_strict_mode_fails_inconclusive_claims(sandbox):
    result = sandbox.inline_run("-p", "no:xdist", "--claims-ledger", "ledger.json", "--strict-claims", "-k", "weak")
    assert outcomes(result) == {"weak": "failed", "weak.twin": "failed"}


def test_ci_environment_makes_strict_the_default(sandbox, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = sandbox.inline_run("-p", "no:xdist", "--claims-ledger", "ledger.json", "-k", "weak and not twin")
    assert outcomes(result) == {"weak": "failed"}


def test_ledger_schema_and_identity_serial_vs_xdist(sandbox):
    sandbox.runpytest("-p", "no:xdist", "--claims-ledger", "serial.json", "--claims-seed", "3")
    sandbox.runpytest("-n", "2", "--claims-ledger", "xdist.json", "--claims-seed", "3")
    serial, xdist = (json.loads((sandbox.path / name).read_text()) for name in ("serial.json", "xdist.json"))
    assert serial["run"]["seed"] == 3 and serial["run"]["budget"] == "quick"
    assert {"seed", "budget", "device", "versions"} <= set(serial["run"])
    required = {"id", "twin_of", "verdict", "estimate", "ci", "prediction", "n_samples", "seed", "examples"}
    assert [c["id"] for c in serial["claims"]] == sorted(["true", "true.twin", "false", "weak", "weak.twin"])
    assert all(required <= set(c) for c in serial["claims"])
    assert next(c for c in serial["claims"] if c["id"] == "true.twin")["twin_of"] == "true"

    def without_timing(ledger):
        return [{k: v for k, v in c.items() if k != "seconds"} for c in ledger["claims"]]

    assert without_timing(serial) == without_timing(xdist)


def test_a_different_master_seed_changes_the_draws(sandbox):
    sandbox.runpytest("-p", "no:xdist", "--claims-ledger", "a.json", "--claims-seed", "1", "-k", "true and not twin")
    sandbox.runpytest("-p", "no:xdist", "--claims-ledger", "b.json", "--claims-seed", "2", "-k", "true and not twin")
    a, b = (json.loads((sandbox.path / n).read_text())["claims"][0] for n in ("a.json", "b.json"))
    assert a["seed"] != b["seed"] and a["estimate"] != b["estimate"]


def test_unknown_options_are_rejected_by_name(sandbox):
    result = sandbox.runpytest("--claims-budget", "huge")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--claims-budget*invalid choice*huge*"])
