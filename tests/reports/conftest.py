"""Fixtures of the report tests: the synthetic ledger (synthetic_ledgers.py)."""

import pytest
from synthetic_ledgers import make_ledger


@pytest.fixture
def ledger():
    return make_ledger()
