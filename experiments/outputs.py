"""What every experiment script writes: DIR/NAME.json (settings and tables), DIR/NAME.csv (one table)
and a matplotlib figure DIR/NAME.png (rendered off-screen)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def write_data(out: Path, name: str, payload: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """DIR/NAME.json with ``payload`` (e.g. settings and rows) and DIR/NAME.csv with ``rows``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(payload, indent=1, default=float))
    with open(out / f"{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed); imported only when a plot is made."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
