"""One test per registered claim: true claims must be supported, false twins refuted."""

import pytest

from engine.registry import all_claims

CLAIMS = all_claims()


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim(claim, check_claim):
    check_claim(claim)
