"""The claim engine: claims as data, decision rules, runner, ledger and pytest plugin."""

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.evidence import ClaimResult, Comparison, Verdict
from engine.rules import DecisionRule, PairedSample, RatioOfMeans, SameLaw, TwoSamples

__all__ = [
    "Claim",
    "ClaimResult",
    "Comparison",
    "DecisionRule",
    "MonteCarlo",
    "PairedSample",
    "RatioOfMeans",
    "SameLaw",
    "Sizes",
    "TwoSamples",
    "Verdict",
]
