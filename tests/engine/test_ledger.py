"""Seeds, serialisation and the atomic ledger."""

import json
import math

import numpy as np
import pytest

from engine.budget import Sizes
from engine.ledger import read_ledger, run_record, write_ledger
from engine.seeding import derive_seed
from engine.serialize import canonical_json, to_jsonable
from models import VanillaNet


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "claim", "{}") == derive_seed(0, "claim", "{}")
    seeds = {derive_seed(m, c, e) for m in (0, 1) for c in ("a", "b") for e in ("x", "y")}
    assert len(seeds) == 8
    assert all(0 <= s < 2**63 for s in seeds)


def test_canonical_json_is_order_independent_and_handles_specs_and_numpy():
    assert canonical_json({"b": 1, "a": (2, 3)}) == canonical_json({"a": [2, 3], "b": 1})
    spec = VanillaNet(3, 2, 4)
    assert json.loads(canonical_json(spec))["widths"] == [4, 4, 4]
    assert to_jsonable(np.float64(0.5)) == 0.5
    assert to_jsonable(math.inf) == "inf"


def test_ledger_is_written_atomically_and_sorted(tmp_path):
    path = tmp_path / "sub" / "ledger.json"
    run = run_record(master_seed=7, budget="quick", device="cpu", strict=True, workers=2)
    write_ledger(path, run, [{"id": "b"}, {"id": "a"}])
    data = read_ledger(path)
    assert [c["id"] for c in data["claims"]] == ["a", "b"]
    assert data["run"]["seed"] == 7 and data["run"]["versions"]["torch"]
    assert [p.name for p in path.parent.iterdir()] == ["ledger.json"]


def test_reading_something_that_is_not_a_ledger_fails_clearly(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a claims ledger"):
        read_ledger(path)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_sizes_reject_non_positive_integers(bad):
    with pytest.raises(ValueError, match=r"Sizes\.quick"):
        Sizes(quick=bad, standard=1, paper=1)


def test_unknown_budget_is_named():
    with pytest.raises(ValueError, match="unknown budget 'huge'"):
        Sizes(1, 1, 1).at("huge")
