"""Budget profiles: how many Hypothesis examples and Monte Carlo draws a run spends."""

from __future__ import annotations

from dataclasses import dataclass

BUDGETS = ("quick", "standard", "paper")


@dataclass(frozen=True)
class Sizes:
    """One integer per budget profile (``quick`` is CI's)."""

    quick: int
    standard: int
    paper: int

    def __post_init__(self) -> None:
        for name in BUDGETS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Sizes.{name} must be an integer >= 1, got {value!r}")

    def at(self, budget: str) -> int:
        """The size for ``budget``; a clear error for an unknown profile."""
        if budget not in BUDGETS:
            raise ValueError(f"unknown budget {budget!r}; choose one of {list(BUDGETS)}")
        return int(getattr(self, budget))


DEFAULT_EXAMPLES = Sizes(quick=8, standard=25, paper=100)
DEFAULT_DRAWS = Sizes(quick=4_000, standard=20_000, paper=100_000)


@dataclass(frozen=True)
class MonteCarlo:
    """What an estimator is given for one example: draw count, seed, device and sampler names."""

    n_draws: int
    seed: int
    device: str = "auto"
    sampler: str = "auto"
