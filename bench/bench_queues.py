"""Job-queue clusters: time to 2 running workers, per system and per way of making them.

Systems: a one-node SLURM through dask-jobqueue (``scripts/slurm.sh start``, as root; left
running if it already was) and a local Dask Gateway server (started here, on free ports).
Columns, median (min-max) of ``--runs``, interleaved in one loop with their order rotated
every run so that load affects all alike:

- direct: ``SLURMCluster(queue="debug", cores=1, memory="1GiB", processes=1, ...)`` /
  ``Gateway(...).new_cluster()`` made in this Python process (imports done, as in a notebook
  that already imported them), ``scale(2)``, until a client sees 2 workers;
- panel: ``POST /clustercraft/clusters {"profile": ..., "n_workers": 2}`` to a real Jupyter
  server (started once per system, its ``profiles`` config naming the same cluster: the same
  SLURMCluster kwargs, the same gateway and auth) until the panel's push (one websocket
  subscriber, open for the whole run) reports 2 workers. It includes the cluster host process
  starting and importing distributed and the queue's library, which the direct column does not.

and the ratio panel / direct (target <= 1.1). Between runs the cluster is closed (DELETE for
the panel) and its jobs (squeue) or processes are waited for, outside the timing.

    .venv/bin/python bench/bench_queues.py [--runs 5] [--systems slurm,gateway]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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

import psutil
from bench_cluster_start import Panel, Server  # a real Jupyter server, an open panel
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


class PanelColumn:
    """A Jupyter server with clustercraft and one profile, and an open panel on it, driven from
    an event loop of its own between the synchronous direct measurements."""

    def __init__(self, directory: Path, name: str, profile: dict) -> None:
        self.name = name
        config = directory / "jupyter-config"
        config.mkdir(parents=True, exist_ok=True)
        settings = {"ClusterManager": {"profiles": {name: profile}, "default_profile": name}}
        (config / "jupyter_server_config.json").write_text(json.dumps(settings))
        self.loop = asyncio.new_event_loop()
        self.server: Server | None = None
        self.panel: Panel | None = None
        self.loop.run_until_complete(self._open(directory, config))

    async def _open(self, directory: Path, config: Path) -> None:
        self.server = Server(str(directory / "server"), env={"JUPYTER_CONFIG_DIR": str(config)})
        await self.server.wait_ready()
        self.panel = await Panel(self.server).open()
        await self._standby_ready()

    async def _standby_ready(self, timeout: float = 60) -> None:
        """A panel open a moment, as a user's: its standby host is warm (its forkserver up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            commands = []
            for process in self.server.descendants():
                with contextlib.suppress(psutil.Error):
                    commands.append(" ".join(process.cmdline()))
            if any("--spec -" in c for c in commands) and any("forkserver" in c for c in commands):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("the standby host did not get ready")

    def launch(self) -> tuple[float, dict]:
        """Seconds from POST until a push shows the workers; the cluster's last state."""
        return self.loop.run_until_complete(self._launch())

    async def _launch(self) -> tuple[float, dict]:
        while not self.panel.messages.empty():
            self.panel.messages.get_nowait()
        started = time.perf_counter()
        cluster = await self.server.request("POST", body={"n_workers": N_WORKERS})
        while True:
            message = await asyncio.wait_for(self.panel.messages.get(), TIMEOUT)
            state = message.get("cluster") or {}
            if state.get("id") == cluster["id"] and state["n_workers"] >= N_WORKERS:
                return time.perf_counter() - started, state

    def delete(self, cluster_id: str) -> None:
        """Shut the cluster down, then wait for the next standby, so no run shares the cores
        with its warming."""
        self.loop.run_until_complete(self.server.request("DELETE", "/" + cluster_id))
        self.loop.run_until_complete(self._standby_ready())

    def close(self) -> None:
        if self.panel is not None:
            self.panel.close()
            self.loop.run_until_complete(asyncio.sleep(0.1))  # its reader sees the cancel
        if self.server is not None:
            self.server.stop()
        self.loop.close()


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
        self.panel_slurm = self.new_slurm()
        profile = {
            "factory": "dask_jobqueue.SLURMCluster",
            "kwargs": self.panel_slurm.cluster_kwargs(cores=1, memory="1GiB", processes=1),
        }
        try:
            self.column = PanelColumn(self.directory / "panel", "slurm", profile)
            yield self
        finally:
            with contextlib.suppress(AttributeError):
                self.column.close()
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

    def panel(self) -> float:
        elapsed, cluster = self.column.launch()
        self.column.delete(cluster["id"])
        if left := self.panel_slurm.wait_no_jobs():
            raise RuntimeError(f"jobs left after DELETE: {left}")
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
            profile = {
                "factory": "dask_gateway.GatewayCluster",
                "kwargs": {
                    "address": server.address,
                    "proxy_address": server.proxy_address,
                    "auth": {
                        "type": "basic",
                        "username": server.username,
                        "password": server.password,
                    },
                },
            }
            self.column = PanelColumn(self.directory / "panel", "gateway", profile)
            try:
                yield self
            finally:
                self.column.close()

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
        self.wait_gone(started)
        return elapsed

    def panel(self) -> float:
        elapsed, cluster = self.column.launch()
        started = [p for p in self.server.processes()[1:] if "proxy" not in p.name()]
        self.column.delete(cluster["id"])
        self.wait_gone(started)
        return elapsed

    @staticmethod
    def wait_gone(processes) -> None:
        deadline = time.monotonic() + 60
        while not gone(processes) and time.monotonic() < deadline:
            time.sleep(0.1)

    def versions(self) -> str:
        return f"dask-gateway-server {version('dask-gateway-server')}"


SYSTEMS: dict[str, Callable[[Path], SlurmSystem | GatewaySystem]] = {
    "slurm": SlurmSystem,
    "gateway": GatewaySystem,
}
# (title, method of a system returning seconds).
COLUMNS: list[tuple[str, str]] = [("direct", "direct"), ("panel", "panel")]


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
    header = "".join(f"{title:<26}" for title in titles)
    print(f"{'system':<10}{header}{'panel / direct':<20}versions")
    for name, results, versions in rows:
        cells = "".join(f"{summary(results[title]):<26}" for title in titles)
        print(f"{name:<10}{cells}{ratio(results):<20}{versions}")


def ratio(results: dict[str, list[float]]) -> str:
    """Medians' ratio, and the range of the per-run ratios (each run's pair ran back to back)."""
    panel, direct = results["panel"], results["direct"]
    per_run = [p / d for p, d in zip(panel, direct, strict=True)]
    return (
        f"{statistics.median(panel) / statistics.median(direct):.2f} "
        f"({min(per_run):.2f}-{max(per_run):.2f})"
    )


if __name__ == "__main__":
    main()
