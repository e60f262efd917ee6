"""Root conftest: loads the claims plugin (options, ledger, report hooks)."""

pytest_plugins = ["engine.plugin"]
