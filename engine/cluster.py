"""A Dask distributed client for long studies: an in-process ``LocalCluster`` or a running cluster.

``scheduler=None`` starts a ``LocalCluster`` of ``jobs`` single-thread workers (default: the cores Dask
sees, ``dask.system.CPU_COUNT``, which honours CPU affinity and cgroup quotas): worker *processes*
(spawned, not forked: a forked child of a process that has used torch's OpenMP pool can hang), or for
``jobs=1`` one worker thread in this process (no start-up cost). No memory limit (the estimators'
preflight refuses what does not fit), Dask's HTTP routes (and a dashboard, if bokeh is installed) on
a free loopback port, and Dask's logs below ERROR silenced. A
``scheduler`` address (``tcp://HOST:PORT``) connects to a running cluster instead: ``dask scheduler``
with ``dask worker`` processes, or dask-jobqueue's ``SLURMCluster(...).scheduler_address``; its workers
must be able to import this project (and the claim registry), and are used as they are.
"""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import threading
from collections.abc import Iterator
from typing import Any

SCHEDULER_ADDRESS = re.compile(r"^[a-z][a-z0-9+]*://\S+:\d+$")


def available_cores() -> int:
    """The cores this process may use (affinity and cgroup quota included), at least 1."""
    from dask.system import CPU_COUNT

    return max(1, int(CPU_COUNT))


def check_scheduler_address(address: str) -> str:
    """``address`` if it reads PROTOCOL://HOST:PORT, else a ValueError saying so."""
    if not SCHEDULER_ADDRESS.match(address):
        raise ValueError(f"scheduler address {address!r} is not PROTOCOL://HOST:PORT (e.g. tcp://10.0.0.5:8786)")
    return address


def dask_setup(worker: Any) -> None:
    """Preload hook of the LocalCluster's worker processes: Ctrl-C reaches the whole process group, and it
    is this process's to handle (it closes the cluster), so the workers ignore it instead of each printing
    a KeyboardInterrupt traceback."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def dask_client(
    scheduler: str | None, jobs: int | None = None, connect_timeout: float = 30.0
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A client on ``scheduler`` or on a new LocalCluster of ``jobs`` workers, and a description of the
    cluster (for the ``run`` section of a power table or an experiment); closes what it opened on exit
    (Ctrl-C included)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        check_scheduler_address(scheduler)
        try:
            client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
        except OSError as error:  # refused or timed out (TimeoutError is an OSError)
            reason = f"cannot reach the Dask scheduler {scheduler} within {connect_timeout:g} s"
            raise ValueError(f"{reason}: {error}") from None
        try:
            workers = client.scheduler_info().get("workers", {})
            threads = sum(w.get("nthreads", 0) for w in workers.values())
            described = {"scheduler": scheduler, "kind": "external", "workers_at_start": len(workers),
                         "threads_at_start": threads}  # fmt: skip
            yield client, described
        finally:
            client.close()
        return
    jobs = available_cores() if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
        cluster = LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=jobs > 1,
            dashboard_address="127.0.0.1:0",  # None would still serve Dask's HTTP routes on :8787, maybe taken
            memory_limit=0,
            silence_logs=logging.ERROR,
            **({"preload": ["engine.cluster"]} if jobs > 1 else {}),  # dask_setup in the worker processes
        )
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client, {"scheduler": "LocalCluster", "kind": "local", "workers": jobs, "processes": jobs > 1}
        finally:
            client.close()
    finally:
        cluster.close()
