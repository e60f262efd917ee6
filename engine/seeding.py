"""Seeds derived from (master seed, claim id, example): the same example gives the same draws,
serially or under xdist, and Hypothesis replays and shrinks deterministically."""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from the string forms of ``parts`` (SHA-256, first 8 bytes)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1
