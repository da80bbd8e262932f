"""New-cluster latency and idle cost of the clustercraft server extension.

Prints, for N = 2 and 4 workers (1 thread each, loopback addresses; median of ``--runs``,
the three columns interleaved in one loop, their order rotated every run, so load and
teardown affect all alike):
- clustercraft: POST /clustercraft/clusters until a websocket push reports all N workers
  (what the panel shows), in a real Jupyter server;
- bare: ``LocalCluster(n_workers=N)`` started in a fresh Python process, from spawn until it
  returns;
- dask-labextension: ``PUT /dask/clusters`` until the cluster model (GET /dask/clusters/{id},
  polled every 50 ms) reports N workers, in a Jupyter server run from a separate venv,
  ``bench/out/dask-labextension-venv``, created on first use with ``pip install
  dask-labextension`` (latest from PyPI; ``--no-dask-labextension`` skips it). Its factory is
  configured through DASK_LABEXTENSION__* env vars to ``LocalCluster(n_workers=N,
  threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0")``, one server
  per N. Its own panel only re-polls every 5 s, so a user sees the workers later than this;
and the ratios (target: clustercraft <= 1.1 x bare). Then the clustercraft Jupyter server's
CPU while idle with 3 clusters and one websocket subscriber (target <= 1 % of a core).

    .venv/bin/python bench/bench_cluster_start.py [--runs 5] [--idle-seconds 20]
        [--no-dask-labextension]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

DASK_LABEXTENSION_VENV = Path(__file__).resolve().parent / "out" / "dask-labextension-venv"
POLL_SECONDS = 0.05  # how often the dask-labextension column polls the cluster model
TIMEOUT = 120.0  # per measurement

BARE_SCRIPT = textwrap.dedent(
    """
    import sys
    from distributed import LocalCluster

    if __name__ == "__main__":
        cluster = LocalCluster(
            n_workers=int(sys.argv[1]), threads_per_worker=1,
            host="127.0.0.1", dashboard_address="127.0.0.1:0",
        )
        print("ready", flush=True)
        sys.stdin.readline()
        cluster.close()
    """
)

# Metadata only: importing dask_labextension would write its yaml into ~/.config/dask.
VERSIONS_SCRIPT = (
    "from importlib.metadata import version; "
    "print(*(version(name) for name in ('dask-labextension', 'distributed', 'jupyter_server')))"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def bare_start(n_workers: int, script: str) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, script, str(n_workers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        elapsed = time.perf_counter() - started
        process.communicate("\n", timeout=60)
        return elapsed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def dask_labextension_python() -> tuple[Path | None, str]:
    """The separate venv's python (installing it if missing), and what it holds or why not."""
    python = DASK_LABEXTENSION_VENV / "bin" / "python"

    def versions() -> str | None:
        if not python.exists():
            return None
        probe = subprocess.run([python, "-c", VERSIONS_SCRIPT], capture_output=True, text=True)
        if probe.returncode != 0:
            return None
        dle, distributed, server = probe.stdout.split()
        return f"dask-labextension {dle}, distributed {distributed}, jupyter_server {server}"

    found = versions()
    if found:
        return python, found
    print(
        f"installing dask-labextension (latest from PyPI) into {DASK_LABEXTENSION_VENV} ...",
        flush=True,
    )
    steps = {
        "python -m venv": [sys.executable, "-m", "venv", DASK_LABEXTENSION_VENV],
        "pip install dask-labextension": [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--upgrade",
            "dask-labextension",
        ],
    }
    for label, step in steps.items():
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as error:
            return None, f"{label} failed: {error}"
        if done.returncode != 0:
            output = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            errors = [line for line in output if line.startswith("ERROR")] or output
            why = " | ".join(errors[-3:]) or f"exit code {done.returncode}"
            return None, f"{label} failed: {why}"
    found = versions()
    return (
        (python, found)
        if found
        else (None, "pip install finished, but dask-labextension is not in the venv")
    )


class Server:
    """A real Jupyter server in its own process, serving the cluster API under ``api``."""

    def __init__(
        self,
        workdir: str,
        *,
        python: str | Path = sys.executable,
        extension: str = "clustercraft",
        api: str = "/clustercraft/clusters",
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        os.makedirs(workdir, exist_ok=True)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = os.path.join(workdir, "server.log")
        env = os.environ | {"JUPYTER_RUNTIME_DIR": os.path.join(workdir, "runtime")} | (env or {})
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(python),
                    "-m",
                    "jupyter_server",
                    "--no-browser",
                    "--allow-root",
                    f"--ServerApp.port={self.port}",
                    "--ServerApp.ip=127.0.0.1",
                    f"--IdentityProvider.token={self.token}",
                    f"--ServerApp.root_dir={workdir}",
                    f"--ServerApp.jpserver_extensions={{'{extension}': True}}",
                    *args,
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.http = AsyncHTTPClient()
        self.url = f"http://127.0.0.1:{self.port}{api}"

    async def request(self, method: str, path: str = "", body: dict | None = None) -> dict | None:
        if body is not None:
            payload = json.dumps(body)
        else:
            payload = "" if method in ("POST", "PUT", "PATCH") else None
        response = await self.http.fetch(
            HTTPRequest(
                self.url + path,
                method=method,
                body=payload,
                headers={"Authorization": f"token {self.token}"},
                request_timeout=TIMEOUT,
            )
        )
        return json.loads(response.body) if response.body else None

    async def wait_ready(self) -> None:
        for _ in range(600):
            if self.process.poll() is not None:
                break
            try:
                await self.request("GET")
                return
            except Exception:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"jupyter server did not start; its log ends:\n{tail(self.log_path)}")

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []

    def cluster_processes(self) -> list[psutil.Process]:
        """Descendants but multiprocessing's helpers, which live as long as the server."""
        found = []
        for child in self.descendants():
            with contextlib.suppress(psutil.Error):
                command = " ".join(child.cmdline())
                helper = ("resource_tracker", "forkserver", "--spec -")  # "-": a standby host
                if not any(word in command for word in helper):
                    found.append(child)
        return found

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until the last cluster's processes have exited, so the next run starts clean."""
        deadline = time.monotonic() + timeout
        while self.cluster_processes() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def subscribe(self):
        ws_url = self.url.replace("http", "ws", 1) + "/events"
        request = HTTPRequest(ws_url, headers={"Authorization": f"token {self.token}"})
        ws = await websocket_connect(request)
        await ws.read_message()  # the snapshot
        return ws

    def stop(self) -> None:
        """Stop the server; kill whatever it started that outlives it (cluster hosts, workers)."""
        children = self.descendants()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _, alive = psutil.wait_procs(children, timeout=10)
        for child in alive:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(alive, timeout=10)


def dask_labextension_server(workdir: str, python: Path, n_workers: int) -> Server:
    factory_kwargs = {
        "n_workers": n_workers,
        "threads_per_worker": 1,
        "host": "127.0.0.1",
        "dashboard_address": "127.0.0.1:0",
    }
    env = {
        "DASK_LABEXTENSION__FACTORY__MODULE": "distributed",
        "DASK_LABEXTENSION__FACTORY__CLASS": "LocalCluster",
        "DASK_LABEXTENSION__FACTORY__KWARGS": repr(factory_kwargs),
        "DASK_LABEXTENSION__DEFAULT__WORKERS": "None",  # no scale() after the factory
        "DASK_LABEXTENSION__INITIAL": "[]",
        # dask_labextension copies its yaml into the user's dask config dir on import
        "DASK_CONFIG": os.path.join(workdir, "dask-config"),
    }
    return Server(
        workdir, python=python, extension="dask_labextension", api="/dask/clusters", env=env
    )


async def bare_column(script: str, n_workers: int) -> float:
    return await asyncio.to_thread(bare_start, n_workers, script)


class Panel:
    """An open Dask clusters panel: one websocket subscriber for the whole run."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.messages: asyncio.Queue[dict] = asyncio.Queue()
        self.ws = None
        self.reader: asyncio.Task | None = None

    async def open(self) -> Panel:
        self.ws = await self.server.subscribe()
        self.reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self) -> None:
        while (raw := await self.ws.read_message()) is not None:
            self.messages.put_nowait(json.loads(raw))

    def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            self.ws.close()


async def clustercraft_start(panel: Panel, n_workers: int) -> float:
    """New cluster with the panel open: POST until a push shows all N workers."""
    while not panel.messages.empty():
        panel.messages.get_nowait()
    started = time.perf_counter()
    body = {"n_workers": n_workers, "threads_per_worker": 1}
    cluster = await panel.server.request("POST", body=body)
    while True:
        message = await panel.messages.get()
        if (
            message["type"] == "cluster"
            and message["cluster"]["id"] == cluster["id"]
            and message["cluster"]["n_workers"] == n_workers
        ):
            break
    elapsed = time.perf_counter() - started
    await panel.server.request("DELETE", "/" + cluster["id"])
    return elapsed


async def dask_labextension_start(server: Server, n_workers: int) -> float:
    started = time.perf_counter()
    model = await server.request("PUT")
    try:
        while model["workers"] < n_workers:
            await asyncio.sleep(POLL_SECONDS)
            model = await server.request("GET", "/" + model["id"])
        return time.perf_counter() - started
    finally:
        await server.request("DELETE", "/" + model["id"])


async def idle_cpu(server: Server, seconds: float) -> float:
    ids = [
        (await server.request("POST", body={"n_workers": 1, "threads_per_worker": 1}))["id"]
        for _ in range(3)
    ]
    ws = await server.subscribe()

    async def drain() -> None:
        while await ws.read_message() is not None:
            pass

    reader = asyncio.ensure_future(drain())
    await asyncio.sleep(5)  # let the clusters finish starting
    process = psutil.Process(server.process.pid)
    before = process.cpu_times()
    await asyncio.sleep(seconds)
    after = process.cpu_times()
    reader.cancel()
    ws.close()
    for cluster_id in ids:
        await server.request("DELETE", "/" + cluster_id)
    used = (after.user - before.user) + (after.system - before.system)
    return 100 * used / seconds


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b is not None else "n/a"


def seconds(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "n/a"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument(
        "--no-dask-labextension",
        action="store_true",
        help="skip the dask-labextension column (and its venv in bench/out)",
    )
    args = parser.parse_args()

    if args.no_dask_labextension:
        dle_python, dle_why = None, "skipped (--no-dask-labextension)"
    else:
        dle_python, dle_why = dask_labextension_python()
    if dle_python:
        print(f"dask-labextension venv: {DASK_LABEXTENSION_VENV} ({dle_why})")
    else:
        print(f"dask-labextension PUT /dask/clusters: not measured: {dle_why}")

    with tempfile.TemporaryDirectory(prefix="cc-bench-") as workdir:
        script = os.path.join(workdir, "bare_local_cluster.py")
        with open(script, "w") as f:
            f.write(BARE_SCRIPT)
        server = Server(os.path.join(workdir, "clustercraft"))
        cold_server = Server(
            os.path.join(workdir, "clustercraft-cold"),
            args=("--ClusterManager.standby_host=False",),
        )
        dle_server: Server | None = None
        panels: list[Panel] = []
        try:
            await server.wait_ready()
            await cold_server.wait_ready()
            panel = await Panel(server).open()
            cold_panel = await Panel(cold_server).open()
            panels += [panel, cold_panel]
            for each in panels:
                await clustercraft_start(each, 1)  # warm the page cache for every column
            await asyncio.sleep(3)  # the user opened the panel a moment before clicking
            rows = []
            for n_workers in (2, 4):
                if dle_python:
                    try:
                        dle_server = dask_labextension_server(
                            os.path.join(workdir, f"dask-labextension-{n_workers}"),
                            dle_python,
                            n_workers,
                        )
                        await dle_server.wait_ready()
                        await asyncio.wait_for(
                            dask_labextension_start(dle_server, n_workers), TIMEOUT
                        )  # warm it like the clustercraft server
                    except Exception as error:
                        print(f"dask-labextension server failed, column left out: {error}")
                        if dle_server is not None:
                            dle_server.stop()
                        dle_server = dle_python = None

                columns: dict[str, tuple[Callable[[Any, int], Awaitable[float]], Any]] = {
                    "clustercraft": (clustercraft_start, panel),
                    "clustercraft cold": (clustercraft_start, cold_panel),
                    "bare": (bare_column, script),
                }
                if dle_server is not None:
                    columns["dask-labextension"] = (dask_labextension_start, dle_server)
                times: dict[str, list[float]] = {name: [] for name in columns}
                names = list(columns)
                for run in range(args.runs):
                    shift = run % len(names)
                    for name in names[shift:] + names[:shift]:
                        try:
                            measure, target = columns[name]
                            elapsed = await asyncio.wait_for(measure(target, n_workers), TIMEOUT)
                        except Exception as error:
                            if name != "dask-labextension":
                                raise
                            print(f"dask-labextension run failed, column left out: {error!r}")
                            del times[name]
                            names.remove(name)
                            continue
                        times[name].append(elapsed)
                        await server.settle()
                        await cold_server.settle()
                        if dle_server is not None:
                            await dle_server.settle()
                if dle_server is not None:
                    dle_server.stop()
                    dle_server = None
                medians = {name: statistics.median(values) for name, values in times.items()}
                rows.append((n_workers, medians))

            header = (
                f"{'N':>2} {'clustercraft (s)':>17} {'cold (s)':>9} {'bare LocalCluster (s)':>22} "
                f"{'dask-labextension (s)':>22} {'clustercraft/bare':>18} {'cold/bare':>10} "
                f"{'dask-labextension/bare':>23} {'clustercraft/dask-labextension':>31}"
            )
            print(f"median of {args.runs} runs, N workers x 1 thread, 127.0.0.1:")
            print(header)
            for n_workers, medians in rows:
                ours, bare_s = medians["clustercraft"], medians["bare"]
                cold, dle = medians["clustercraft cold"], medians.get("dask-labextension")
                print(
                    f"{n_workers:>2} {seconds(ours):>17} {seconds(cold):>9} {seconds(bare_s):>22} "
                    f"{seconds(dle):>22} {ratio(ours, bare_s):>18} {ratio(cold, bare_s):>10} "
                    f"{ratio(dle, bare_s):>23} {ratio(ours, dle):>31}"
                )
            print(
                "clustercraft: the panel open (a standby host ready); cold: "
                "--ClusterManager.standby_host=False, a host process started on the click"
            )
            if any("dask-labextension" in medians for _, medians in rows):
                print(
                    "dask-labextension column: PUT returns once LocalCluster is up; its model "
                    f"polled every {POLL_SECONDS * 1000:.0f} ms here, but its panel only re-polls "
                    "GET /dask/clusters every 5 s, so a user may see the workers up to 5 s later"
                )
            for each in panels:
                each.close()  # idle_cpu subscribes once itself
            panels.clear()
            cpu = await idle_cpu(server, args.idle_seconds)
            print(
                f"jupyter server CPU, idle, 3 clusters + 1 subscriber, {args.idle_seconds:.0f} s: "
                f"{cpu:.2f} % of one core"
            )
        finally:
            for each in panels:
                each.close()
            if dle_server is not None:
                dle_server.stop()
            server.stop()
            cold_server.stop()


if __name__ == "__main__":
    asyncio.run(main())
