"""Long experiment sweeps on Dask: one independent cell (a split, a depth, a width ...) per task.

``map_cells(function, cells, scheduler, jobs)`` runs ``function(cell)`` for every cell on the cluster of
``engine.cluster.dask_client`` (an in-process ``LocalCluster`` of ``jobs`` single-thread workers by
default, every core; ``--scheduler tcp://HOST:PORT`` for a running cluster, e.g. dask-jobqueue on Slurm),
streams results back with a progress bar, and returns them in the order of ``cells`` (``cost``, if given,
only orders the submission: the most expensive cells first, so that no long cell starts last). Each task sets
``threads`` torch threads (default 1: one worker per core). ``function`` and the cells must pickle
(module-level functions and plain data), and a cell's result must not depend on which worker ran it:
every random draw comes from a seed inside the cell.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tqdm import tqdm

from engine.cluster import check_scheduler_address, dask_client

Cell = TypeVar("Cell")
Result = TypeVar("Result")


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """``--scheduler`` and ``--jobs`` (the options of ``map_cells``)."""
    parser.add_argument("--scheduler", type=check_scheduler_address, default=None,
                        help="a running Dask scheduler, tcp://HOST:PORT (default: a LocalCluster on this machine)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="LocalCluster workers (default: every core; 1 = in this process)")  # fmt: skip


def _in_task(function: Callable[[Any], Any], cell: Any, threads: int) -> Any:
    import torch

    torch.set_num_threads(threads)
    return function(cell)


def map_cells(
    function: Callable[[Cell], Result],
    cells: Sequence[Cell],
    scheduler: str | None = None,
    jobs: int | None = None,
    threads: int = 1,
    desc: str = "cells",
    cost: Callable[[Cell], float] | None = None,
) -> list[Result]:
    """[function(cell) for cell in cells], each cell one Dask task (module docstring)."""
    from distributed import as_completed

    if not cells:
        return []
    if scheduler is not None and jobs is not None:
        raise ValueError("--jobs sizes a LocalCluster; with --scheduler the cluster's own workers are used")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    results: dict[int, Result] = {}
    with dask_client(scheduler, jobs) as (client, _):
        order = sorted(range(len(cells)), key=lambda i: -cost(cells[i])) if cost else range(len(cells))
        futures = {client.submit(_in_task, function, cells[i], threads, pure=False): i for i in order}
        with tqdm(total=len(cells), desc=desc, unit="cell", disable=None) as bar:
            for future in as_completed(futures, loop=client.loop):
                results[futures[future]] = future.result()
                bar.update(1)
    return [results[i] for i in range(len(cells))]
