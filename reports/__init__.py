"""Verification reports from ledgers: HTML report, baseline diff, power table."""
