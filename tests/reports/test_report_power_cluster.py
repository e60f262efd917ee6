"""The power table on a real Dask cluster on this machine: a ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1, started and stopped here. Two toy claims x three seeds through ``--scheduler``
give every cell the verdict and estimate of a local run; killing one worker midway still completes the
study with each cell stored exactly once."""

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reports.__main__ import main
from reports.power import power_study

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
TOYS = "toy_claims:pair"  # toy.ratio and its twin
CLAIMS = ["toy.ratio", "toy.ratio.twin"]
SEEDS = [1, 2, 3]
CELL_SLEEP_S = 0.3  # per measure on the cluster's workers (two per cell): cells are in flight when one dies
START_TIMEOUT_S = 60


class DaskProcesses:
    """A ``dask scheduler`` (port 0: a free port, read back from its scheduler file) and ``dask worker``
    processes, each in its own session so that stopping one stops its children too."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.execution_log = folder / "executions.log"
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")]),
            "TOY_CELL_SLEEP_S": str(CELL_SLEEP_S),
            "TOY_CELL_LOG": str(self.execution_log),
            "OMP_NUM_THREADS": "1",
        }
        scheduler_file = folder / "scheduler.json"
        # --idle-timeout: a scheduler orphaned by a killed test run ends itself
        self._spawn(
            "scheduler",
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
             str(scheduler_file), "--idle-timeout", "600"],
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            self._alive_or_fail("scheduler")
            if time.monotonic() > deadline:
                raise TimeoutError("the dask scheduler did not write its scheduler file")
            time.sleep(0.1)
        self.address = json.loads(scheduler_file.read_text())["address"]

    def _spawn(self, name: str, arguments: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - the child keeps writing to it
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "dask", *arguments], stdout=log, stderr=subprocess.STDOUT, env=self.env,
            cwd=self.folder, start_new_session=True,
        )  # fmt: skip
        log.close()

    def _alive_or_fail(self, name: str) -> None:
        if self.processes[name].poll() is not None:
            raise RuntimeError(f"dask {name} exited: {(self.folder / f'{name}.log').read_text()[-2000:]}")

    def start_worker(self, name: str) -> None:
        """``dask worker`` with one worker process of one thread (no nanny: killing it kills the worker);
        --death-timeout: a worker whose scheduler is gone ends itself."""
        self._spawn(
            name,
            ["worker", self.address, "--name", name, "--nworkers", "1", "--nthreads", "1", "--no-nanny",
             "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0", "--death-timeout", "60"],
        )  # fmt: skip

    def wait_for_workers(self, client, names: list[str]) -> dict[str, str]:
        """Worker name -> address, once all ``names`` are registered with the scheduler."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            workers = {w["name"]: address for address, w in client.scheduler_info()["workers"].items()}
            if all(name in workers for name in names):
                return workers
            for name in names:
                self._alive_or_fail(name)
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers {names} did not register; have {sorted(workers)}")
            time.sleep(0.1)

    def kill(self, name: str) -> None:
        """SIGKILL: no goodbye to the scheduler, as when a node dies."""
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(10)

    def stop(self) -> None:
        """Stop every process started here (workers first), SIGTERM then SIGKILL."""
        for name in sorted(self.processes, key=lambda n: n == "scheduler"):
            process = self.processes[name]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture(autouse=True)
def toy_module_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from distributed import Client

    processes = DaskProcesses(tmp_path_factory.mktemp("dask-cluster"))
    try:
        for name in ("w0", "w1"):
            processes.start_worker(name)
        with Client(processes.address, set_as_default=False, timeout=START_TIMEOUT_S) as client:
            processes.wait_for_workers(client, ["w0", "w1"])
        yield processes
    finally:
        processes.stop()
    assert all(p.poll() is not None for p in processes.processes.values())


@pytest.fixture(scope="module")
def local_cells(tmp_path_factory):
    """The reference: the same cells on an in-process LocalCluster."""
    sys.path.insert(0, str(HERE))
    try:
        power = power_study(CLAIMS, SEEDS, device="cpu", jobs=1, registry=TOYS)
    finally:
        sys.path.remove(str(HERE))
    return cells_of(power)


def cells_of(power):
    return {(r["id"], r["master_seed"]): (r["verdict"], r["estimate"]) for c in power["claims"] for r in c["runs"]}


def stored_lines(store: Path) -> list[dict]:
    lines = [json.loads(line) for line in store.read_text().splitlines()]
    return [line for line in lines if "format" not in line]


def test_scheduler_run_gives_every_cell_of_a_local_run(cluster, local_cells, tmp_path, capsys):
    output, store = tmp_path / "power.json", tmp_path / "power.cells.jsonl"
    flags = ["--seed-list", "1-3", "--registry", TOYS, "--device", "cpu"]
    assert main(["power", *flags, "--scheduler", cluster.address, "-o", str(output)]) == 0
    assert f"on scheduler {cluster.address}" in capsys.readouterr().out
    power = json.loads(output.read_text())
    assert power["run"]["cluster"]["kind"] == "external" and power["run"]["cluster"]["workers_at_start"] == 2
    assert cells_of(power) == local_cells and len(local_cells) == 6
    lines = stored_lines(store)
    assert sorted((c["id"], c["master_seed"]) for c in lines) == sorted(local_cells)
    assert {c["worker"] for c in lines} <= {a for a in power_workers(cluster)}  # computed on the cluster
    assert len({c["worker"] for c in lines}) == 2  # both workers took cells


def power_workers(cluster):
    from distributed import Client

    with Client(cluster.address, set_as_default=False) as client:
        return set(client.scheduler_info()["workers"])


def test_workers_that_cannot_import_the_registry_end_the_study_saying_so(cluster, tmp_path, monkeypatch, capsys):
    (tmp_path / "only_here.py").write_text("from toy_claims import pair as claims  # not on the workers' path\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    flags = ["--seeds", "1", "--registry", "only_here:claims", "--device", "cpu", "-o", str(tmp_path / "power.json")]
    assert main(["power", *flags, "--scheduler", cluster.address]) == 1
    error = capsys.readouterr().err.splitlines()[-1]
    assert "could not be computed" in error and "'only_here:claims' is not an importable" in error
    assert "0 cells stored" in error and "rerun to resume" in error


def test_killing_a_worker_midway_still_stores_each_cell_exactly_once(cluster, local_cells, tmp_path, record_property):
    from distributed import Client

    store = tmp_path / "power.cells.jsonl"
    cluster.execution_log.unlink(missing_ok=True)
    killed: dict = {}
    with Client(cluster.address, set_as_default=False) as observer:
        workers = cluster.wait_for_workers(observer, ["w0", "w1"])

        def kill_w0_after_the_first_cell(cell):
            if not killed:
                killed["in_flight"] = len(observer.processing(workers=[workers["w0"]])[workers["w0"]])
                killed["stored_before"] = len(stored_lines(store))
                killed["pid"] = cluster.processes["w0"].pid
                cluster.kill("w0")

        power = power_study(
            CLAIMS, SEEDS, device="cpu", registry=TOYS, scheduler=cluster.address, store=store,
            on_cell=kill_w0_after_the_first_cell,
        )  # fmt: skip
    assert killed and killed["stored_before"] == 1 and cluster.processes["w0"].poll() is not None
    assert cells_of(power) == local_cells  # every cell, each with the local verdict and estimate
    keys = collections.Counter((c["id"], c["master_seed"]) for c in stored_lines(store))
    assert sorted(keys) == sorted(local_cells) and set(keys.values()) == {1}  # each cell stored exactly once
    assert {c["worker"] for c in stored_lines(store)[1:]} == {workers["w1"]}  # after the kill: the survivor
    executions = [line.split() for line in cluster.execution_log.read_text().splitlines()]
    by_example = collections.defaultdict(set)
    for pid, seed in executions:
        by_example[seed].add(int(pid))
    rerun = sum(len(pids) > 1 for pids in by_example.values())  # started on w0, finished again on w1
    record_property("fault", f"6 cells; w0 killed after 1 stored with {killed['in_flight']} in flight; "
                             f"{rerun} example(s) recomputed; 0 cells stored twice")  # fmt: skip
    print(f"fault test: w0 killed with {killed['in_flight']} cell(s) in flight; {rerun} example(s) recomputed on w1")
