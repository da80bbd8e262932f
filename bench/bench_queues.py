"""Job-queue clusters: time to 2 running workers, per system and per way of making them.

Systems: a one-node SLURM through dask-jobqueue (``scripts/slurm.sh start``, as root; left
running if it already was) and a local Dask Gateway server (started here, on free ports).
Columns, median (min-max) of ``--runs``, interleaved in one loop with their order rotated
every run so that load affects all alike:

- direct: ``SLURMCluster(queue="debug", cores=1, memory="1GiB", processes=1, ...)`` /
  ``Gateway(...).new_cluster()`` made in this Python process (imports done, as in a notebook
  that already imported them), ``scale(2)``, until a client sees 2 workers.

Between runs the cluster is closed and its jobs (squeue) or processes are waited for, outside
the timing. The product-side column, POST /clustercraft/clusters with a SLURM or Gateway
profile until the panel's push reports 2 workers, and the ratio panel / direct (target
<= 1.1) are added when profiles exist: one more method on each system and one more entry in
COLUMNS.

    .venv/bin/python bench/bench_queues.py [--runs 5] [--systems slurm,gateway]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

from distributed import Client

from clustercraft.tests.queues import (
    SLURM_DIR,
    SLURM_QUEUE,
    SLURM_SCRIPT,
    Slurm,
    gateway_server,
    gone,
)

N_WORKERS = 2
TIMEOUT = 180.0  # per measurement


def quiet_gateway_del() -> None:
    """dask-gateway 2026.3's Gateway.__del__ closes an already closed Gateway again, which asks
    distributed's stopped LoopRunner for its loop: a RuntimeError printed as "Exception ignored
    in". Harmless; not printed here."""
    default = sys.unraisablehook

    def hook(unraisable) -> None:
        where = getattr(unraisable.object, "__qualname__", "")
        if where == "Gateway.__del__" and isinstance(unraisable.exc_value, RuntimeError):
            return
        default(unraisable)

    sys.unraisablehook = hook


def wait_workers(client: Client) -> None:
    client.wait_for_workers(N_WORKERS, timeout=TIMEOUT)


class SlurmSystem:
    name = "slurm"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def running(self) -> Iterator[SlurmSystem]:
        lease = ["--lease", str(os.getpid())]
        started = subprocess.run([str(SLURM_SCRIPT), "start", *lease], stdin=subprocess.DEVNULL)
        if started.returncode != 0:
            raise RuntimeError(f"scripts/slurm.sh start exited with {started.returncode}")
        os.environ["SLURM_CONF"] = str(SLURM_DIR / "slurm.conf")
        try:
            yield self
        finally:
            subprocess.run([str(SLURM_SCRIPT), "stop", *lease], stdin=subprocess.DEVNULL)

    def new_slurm(self) -> Slurm:
        job_name = f"bench-{uuid.uuid4().hex[:8]}"
        directory = self.directory / job_name
        return Slurm(SLURM_DIR / "slurm.conf", SLURM_QUEUE, job_name, directory)

    def direct(self) -> float:
        from dask_jobqueue import SLURMCluster

        slurm = self.new_slurm()
        kwargs = slurm.cluster_kwargs(cores=1, memory="1GiB", processes=1)
        start = time.perf_counter()
        with SLURMCluster(**kwargs) as cluster:
            cluster.scale(N_WORKERS)
            with Client(cluster) as client:
                wait_workers(client)
                elapsed = time.perf_counter() - start
        if left := slurm.wait_no_jobs():
            raise RuntimeError(f"jobs left after close: {left}")
        return elapsed

    def versions(self) -> str:
        sinfo = subprocess.run(["sinfo", "-V"], capture_output=True, text=True).stdout.strip()
        return f"{sinfo}, dask-jobqueue {version('dask-jobqueue')}"


class GatewaySystem:
    name = "gateway"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def running(self) -> Iterator[GatewaySystem]:
        with gateway_server(self.directory / "gateway") as server:
            self.server = server
            yield self

    def direct(self) -> float:
        with self.server.connect() as gateway:
            start = time.perf_counter()
            with gateway.new_cluster() as cluster:
                cluster.scale(N_WORKERS)
                with cluster.get_client() as client:
                    wait_workers(client)
                    elapsed = time.perf_counter() - start
                # The cluster's scheduler and workers: the server's children but its proxy.
                started = [p for p in self.server.processes()[1:] if "proxy" not in p.name()]
                cluster.shutdown()
        deadline = time.monotonic() + 60
        while not gone(started) and time.monotonic() < deadline:
            time.sleep(0.1)
        return elapsed

    def versions(self) -> str:
        return f"dask-gateway-server {version('dask-gateway-server')}"


SYSTEMS: dict[str, Callable[[Path], SlurmSystem | GatewaySystem]] = {
    "slurm": SlurmSystem,
    "gateway": GatewaySystem,
}
# (title, method of a system returning seconds). The panel column goes here.
COLUMNS: list[tuple[str, str]] = [("direct", "direct")]


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def measure(system, runs: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {title: [] for title, _ in COLUMNS}
    for run in range(runs):
        shift = run % len(COLUMNS)
        for title, method in COLUMNS[shift:] + COLUMNS[:shift]:
            results[title].append(getattr(system, method)())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    args = parser.parse_args()
    quiet_gateway_del()

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-queues-") as tmp:
        for name in args.systems.split(","):
            system = SYSTEMS[name](Path(tmp))
            with system.running():
                results = measure(system, args.runs)
                rows.append((name, results, system.versions()))

    print(
        f"\nJob-queue cluster to {N_WORKERS} running workers, median (min-max) of {args.runs}, "
        f"{os.cpu_count()} cores; distributed {version('distributed')}, Python "
        f"{sys.version.split()[0]}"
    )
    titles = [title for title, _ in COLUMNS]
    print(f"{'system':<10}" + "".join(f"{title:<26}" for title in titles) + "versions")
    for name, results, versions in rows:
        cells = "".join(f"{summary(results[title]):<26}" for title in titles)
        print(f"{name:<10}{cells}{versions}")


if __name__ == "__main__":
    main()
