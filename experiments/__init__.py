"""Runnable experiment scripts reproducing the papers' figures: each writes data and a plot."""
