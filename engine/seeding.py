"""Seeds derived from (master seed, claim id, example): the same example gives the same draws,
serially or under xdist, and Hypothesis replays and shrinks deterministically. The hash itself is
``estimators.sampling.derive_seed``, shared with the estimators' block and noise seeds."""

from estimators.sampling import derive_seed

__all__ = ["derive_seed"]
