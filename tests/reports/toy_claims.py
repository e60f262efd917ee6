"""Cheap toy claims for the power-table tests, importable by Dask workers (the tests put this folder on
sys.path, or on the PYTHONPATH of the worker processes they start, and pass ``registry="toy_claims:claims"``).

Two environment variables, set only for the workers of the real-cluster tests, make cells observable:
``TOY_CELL_SLEEP_S`` sleeps that long in every measure (so cells are in flight when a worker is killed)
and ``TOY_CELL_LOG`` appends "pid seed" per measure to that file (which process computed which example).
Neither changes a draw.
"""

import os
import time

import numpy as np
from hypothesis import strategies as st

from engine import Claim, PairedSample, RatioOfMeans, Sizes


def cheap_measure(ratio):
    def measure(example, mc):
        _observe(mc.seed)
        rng = np.random.default_rng(mc.seed)
        den = rng.exponential(size=(mc.n_draws, 1)) + example
        return PairedSample(ratio * den + 0.5 * rng.standard_normal(den.shape), den, ("a",))

    return measure


def _observe(seed):
    if os.environ.get("TOY_CELL_LOG"):
        with open(os.environ["TOY_CELL_LOG"], "a") as log:
            log.write(f"{os.getpid()} {seed}\n")
    time.sleep(float(os.environ.get("TOY_CELL_SLEEP_S", "0")))


def broken_measure(example, mc):
    raise RuntimeError("this measure is broken on purpose")


TRUE = Claim(
    id="toy.ratio", statement="E[num]/E[den] = 1", citation="test", draw=st.integers(0, 3), measure=cheap_measure(1.0),
    prediction=1.0, rule=RatioOfMeans(margin=0.1), n_draws=Sizes(4000, 4000, 4000), n_examples=Sizes(2, 2, 2),
)  # fmt: skip
TWIN = TRUE.twin(id="toy.ratio.twin", statement="FALSE TWIN: = 2", prediction=2.0)
WEAK = TRUE.twin(id="toy.ratio.weak-twin", statement="FALSE TWIN, too few draws", prediction=1.05,
                 n_draws=Sizes(20, 20, 20))  # fmt: skip
BROKEN = Claim(
    id="toy.broken", statement="raises", citation="test", draw=st.integers(0, 3), measure=broken_measure,
    prediction=1.0, rule=RatioOfMeans(margin=0.1), n_draws=Sizes(10, 10, 10), n_examples=Sizes(1, 1, 1),
)  # fmt: skip


def claims():
    return [TRUE, TWIN, WEAK]


def pair():
    return [TRUE, TWIN]


def claims_with_a_broken_one():
    return [TRUE, BROKEN]
