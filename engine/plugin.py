"""The pytest plugin: options, the claim fixture, ledger collection (xdist-safe) and summary.

Workers attach each claim's ledger record to its test report (``user_properties``); the
controller (or the single process) gathers them and writes one ledger at session end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.budget import BUDGETS
from engine.claim import Claim
from engine.evidence import ClaimResult, Verdict
from engine.ledger import claim_record, read_ledger, run_record, write_ledger
from engine.runner import run_claim
from estimators.device import DEVICE_CHOICES, resolve_device
from estimators.ntk import SAMPLERS

RECORD_KEY = "claim_record"
ARTIFACT_KEY = "artifact"  # a test's record_property("artifact", path): listed at the end of the run
DEFAULT_LEDGER = "reports/ledger.json"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claims", "NTK claim verification")
    group.addoption("--claims-budget", choices=BUDGETS, default="quick", help="examples and Monte Carlo sizes")
    group.addoption("--claims-seed", type=int, default=0, help="master seed every draw derives from")
    group.addoption("--claims-ledger", default=DEFAULT_LEDGER, help="where to write the JSON ledger")
    group.addoption(
        "--claims-report", default=None, metavar="PATH", help="also write the HTML report of the ledger to PATH"
    )
    group.addoption("--device", choices=DEVICE_CHOICES, default="auto", help="estimator device")
    group.addoption(
        "--sampler", choices=SAMPLERS, default="auto", help="dense weights, or the exact low-rank sampler (auto)"
    )
    group.addoption(
        "--strict-claims",
        action="store_true",
        default=None,
        help="inconclusive verdicts fail (default when the CI environment variable is set)",
    )
    group.addoption("--no-strict-claims", dest="strict_claims", action="store_false", help="report inconclusive")


def strict_mode(config: pytest.Config) -> bool:
    """--strict-claims / --no-strict-claims, else on when $CI is set to a true value."""
    option = config.getoption("strict_claims")
    if option is not None:
        return bool(option)
    return os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}


def reproduce_command(config: pytest.Config, nodeid: str) -> str:
    """One line that re-runs this claim exactly (same seed, budget and device)."""
    return (
        f"pytest -p no:xdist '{nodeid}' --claims-budget {config.getoption('claims_budget')} "
        f"--claims-seed {config.getoption('claims_seed')} --device {config.getoption('device')} "
        f"--sampler {config.getoption('sampler')}"
    )


def describe(result: ClaimResult) -> str:
    """Human-readable evidence of a claim result."""
    d = result.decisive
    lines = [
        f"claim {result.claim_id}: {result.verdict.value.upper()}"
        + (f" (false twin of {result.twin_of})" if result.twin_of else ""),
        f"  rule: {result.rule}; family-wise alpha = {result.alpha}",
        f"  decisive comparison [{d.label}]: estimate {d.estimate:.4g}, CI [{d.ci[0]:.4g}, {d.ci[1]:.4g}], "
        f"prediction {d.prediction:g}, t = {d.statistic:.3g}, p(refute) = {d.p_refute:.3g}, "
        f"p(equivalence) = {d.p_equivalence:.3g}, n = {d.n_samples}",
        f"  examples: {len(result.examples)}, claim seed {result.seed}",
    ]
    decisive = next(e for e in result.examples if d in e.comparisons)
    lines.append(f"  decisive example (seed {decisive.seed}): {json.dumps(decisive.example, default=str)[:400]}")
    return "\n".join(lines)


@pytest.fixture
def check_claim(request: pytest.FixtureRequest) -> Any:
    """Run a claim, record its ledger entry, and pass/fail/skip by verdict (twins must be refuted)."""
    config = request.config

    def check(claim: Claim) -> ClaimResult:
        device = str(resolve_device(config.getoption("device")))
        result = run_claim(
            claim,
            config.getoption("claims_budget"),
            config.getoption("claims_seed"),
            device,
            config.getoption("sampler"),
        )
        reproduce = reproduce_command(config, request.node.nodeid)
        record = claim_record(claim, result, reproduce)
        request.node.user_properties.append((RECORD_KEY, json.dumps(record)))
        message = f"{describe(result)}\n  reproduce: {reproduce}"
        wanted = Verdict.REFUTED if claim.twin_of else Verdict.SUPPORTED
        if result.verdict == wanted:
            return result
        if result.verdict == Verdict.INCONCLUSIVE and not strict_mode(config):
            pytest.skip(f"INCONCLUSIVE (not strict): {claim.id}")
        if claim.twin_of:
            pytest.fail(f"false twin not refuted — the check lacks power or the estimator is wrong\n{message}")
        pytest.fail(message)
        raise AssertionError("unreachable")

    return check


class LedgerCollector:
    """Gathers claim records from test reports and writes the ledger once, at session end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: dict[str, dict[str, Any]] = {}
        self.artifacts: dict[str, None] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == RECORD_KEY:
                record = json.loads(value)
                self.records[record["id"]] = record
            elif key == ARTIFACT_KEY:
                self.artifacts[str(value)] = None

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.records:
            return
        config = self.config
        run = run_record(
            master_seed=config.getoption("claims_seed"),
            budget=config.getoption("claims_budget"),
            device=str(resolve_device(config.getoption("device"))),
            strict=strict_mode(config),
            sampler=config.getoption("sampler"),
            workers=int(getattr(config.option, "numprocesses", 0) or 0),
        )
        self.path = write_ledger(config.getoption("claims_ledger"), run, self.records.values())
        if config.getoption("claims_report"):
            from reports.html import write_report  # matplotlib is imported only when a report is wanted

            write_report(config.getoption("claims_report"), read_ledger(self.path))

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for artifact in self.artifacts:
            terminalreporter.write_line(f"artifact: {artifact}")
        if not self.records:
            return
        terminalreporter.section("claims")
        for record in sorted(self.records.values(), key=lambda r: r["id"]):
            twin = " (twin)" if record["twin_of"] else ""
            lo, hi = (float(end) for end in record["ci"])  # JSON stores non-finite ends as "inf"
            terminalreporter.write_line(
                f"{record['verdict']:>12}  {record['id']}{twin}: {float(record['estimate']):.4g} "
                f"[{lo:.4g}, {hi:.4g}] vs {record['prediction']:g}  ({record['seconds']:.1f} s)"
            )
        terminalreporter.write_line(f"ledger: {Path(self.config.getoption('claims_ledger')).resolve()}")
        if self.config.getoption("claims_report"):
            terminalreporter.write_line(f"report: {Path(self.config.getoption('claims_report')).resolve()}")


def pytest_configure(config: pytest.Config) -> None:
    resolve_device(config.getoption("device"))
    worker = getattr(config, "workerinput", None)
    if worker is not None:  # share the cores between xdist workers instead of oversubscribing
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(worker["workercount"])))
    else:
        config.pluginmanager.register(LedgerCollector(config), "claims-ledger-collector")
