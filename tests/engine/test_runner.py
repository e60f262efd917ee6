"""The runner draws a claim's examples from (master seed, claim id) alone."""

import contextlib
import importlib
import sys

from hypothesis import strategies as st

from engine import Claim, Estimates, MonteCarlo, Sizes, runner, within
from engine.runner import run_claim


def constant_estimate(example: tuple[int, float], mc: MonteCarlo) -> Estimates:
    return Estimates.single("x", 0.0, 1.0, 10.0, 1)


TOY = Claim(
    id="tests.runner.toy",
    statement="a toy claim whose examples are integers and floats",
    citation="tests",
    draw=st.tuples(st.integers(0, 10**9), st.floats(0.0, 1e6)),
    measure=constant_estimate,
    prediction=0.0,
    rule=within(5.0),
    n_draws=Sizes(quick=1, standard=1, paper=1),
    n_examples=Sizes(quick=200, standard=200, paper=200),
)


def drawn_examples() -> list:
    return [e.example for e in run_claim(TOY, "quick", master_seed=3).examples]


def import_module_with_constants(tmp_path, name: str) -> None:
    """A new project-like module whose source holds constants Hypothesis could harvest."""
    offset = sum(map(ord, name))  # constants new to Hypothesis's pool, whatever was imported before
    integers = ", ".join(str(offset + 7919 * i) for i in range(40))  # spread out, so pool indices shift
    (tmp_path / f"{name}.py").write_text(f"INTEGERS = [{integers}]\nFLOATS = [{offset}.5e-7, {offset}.25]\n")
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def test_examples_do_not_depend_on_imported_modules(tmp_path):
    before = drawn_examples()
    import_module_with_constants(tmp_path, "ntk_claims_extra_constants_a")
    assert drawn_examples() == before


def test_without_the_guard_imports_would_change_the_examples(tmp_path, monkeypatch):
    """Power of the test above: Hypothesis does harvest local constants (else the guard is moot)."""
    monkeypatch.setattr(runner, "examples_from_seed_only", contextlib.nullcontext)
    before = drawn_examples()
    import_module_with_constants(tmp_path, "ntk_claims_extra_constants_b")
    after = drawn_examples()
    assert after != before
