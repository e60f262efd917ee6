"""The claim engine: claims as data, decision rules, runner, ledger and pytest plugin."""

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.evidence import ClaimResult, Comparison, Verdict
from engine.intervals import Estimates, InRegion, at_least, at_most, within
from engine.rules import DecisionRule, PairedSample, RatioOfMeans, SameLaw, TwoSamples
from engine.statistics import ols_slope

__all__ = [
    "Claim",
    "ClaimResult",
    "Comparison",
    "DecisionRule",
    "Estimates",
    "InRegion",
    "MonteCarlo",
    "PairedSample",
    "RatioOfMeans",
    "SameLaw",
    "Sizes",
    "TwoSamples",
    "Verdict",
    "at_least",
    "at_most",
    "ols_slope",
    "within",
]
