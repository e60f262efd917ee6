"""One theorem per module; every module-level ``Claim`` is registered automatically."""
