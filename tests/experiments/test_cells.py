"""The experiment sweeps on Dask (``experiments.cells``): submission order by cost, results in cell order, and
the same rows from a real two-process LocalCluster as from the in-process path."""

from experiments import lzb_review_losses
from experiments.cells import map_cells

STARTED: list[int] = []


def record(x: int) -> int:
    STARTED.append(x)
    return x * x


def test_cost_orders_the_submission_not_the_results():
    STARTED.clear()
    assert map_cells(record, [1, 3, 2], jobs=1, cost=lambda x: x) == [1, 9, 4]
    assert STARTED == [3, 2, 1]  # one in-process worker thread runs the cells as submitted: most expensive first


def test_two_worker_processes_give_the_rows_of_one(tmp_path):
    """lzb_review_losses: two kinds of cell (a width of the loss sweep, a PL* configuration), submitted by cost."""
    serial = lzb_review_losses.main(["--out", str(tmp_path / "one"), "--budget", "quick", "--jobs", "1"])
    parallel = lzb_review_losses.main(["--out", str(tmp_path / "two"), "--budget", "quick", "--jobs", "2"])
    for key in ("rows", "slopes", "curves", "pl_star"):
        assert parallel[key] == serial[key], key
