"""New-cluster latency and idle cost of the clustercraft server extension.

Prints, for N = 2 and 4 workers (median of 5, runs interleaved):
- clustercraft: POST /clustercraft/clusters until a websocket push reports all N workers
  (what the panel shows), in a real Jupyter server;
- bare: ``LocalCluster(n_workers=N)`` started in a fresh Python process, from spawn until it
  returns;
and their ratio (target <= 1.1). Then the Jupyter server's CPU while idle with 3 clusters
and one websocket subscriber (target <= 1 % of a core).

    .venv/bin/python bench/bench_cluster_start.py [--runs 5] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
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

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bare_start(n_workers: int, script: str) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, script, str(n_workers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    elapsed = time.perf_counter() - started
    process.communicate("\n", timeout=60)
    return elapsed


class Server:
    """A real Jupyter server with clustercraft, in its own process."""

    def __init__(self, workdir: str) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        env = os.environ | {"JUPYTER_RUNTIME_DIR": os.path.join(workdir, "runtime")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                "--allow-root",
                f"--ServerApp.port={self.port}",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={workdir}",
                "--ServerApp.jpserver_extensions={'clustercraft': True}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = AsyncHTTPClient()
        self.url = f"http://127.0.0.1:{self.port}/clustercraft/clusters"

    async def request(self, method: str, path: str = "", body: dict | None = None) -> dict | None:
        response = await self.http.fetch(
            HTTPRequest(
                self.url + path,
                method=method,
                body=json.dumps(body) if body is not None else None,
                headers={"Authorization": f"token {self.token}"},
            )
        )
        return json.loads(response.body) if response.body else None

    async def wait_ready(self) -> None:
        for _ in range(300):
            try:
                await self.request("GET")
                return
            except (OSError, Exception):
                await asyncio.sleep(0.1)
        raise RuntimeError("jupyter server did not start")

    async def subscribe(self):
        ws_url = self.url.replace("http", "ws", 1) + "/events"
        request = HTTPRequest(ws_url, headers={"Authorization": f"token {self.token}"})
        ws = await websocket_connect(request)
        await ws.read_message()  # the snapshot
        return ws

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


async def clustercraft_start(server: Server, n_workers: int) -> float:
    ws = await server.subscribe()
    started = time.perf_counter()
    cluster = await server.request("POST", body={"n_workers": n_workers, "threads_per_worker": 1})
    while True:
        message = json.loads(await ws.read_message())
        if (
            message["type"] == "cluster"
            and message["cluster"]["id"] == cluster["id"]
            and message["cluster"]["n_workers"] == n_workers
        ):
            break
    elapsed = time.perf_counter() - started
    ws.close()
    await server.request("DELETE", "/" + cluster["id"])
    return elapsed


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


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as workdir:
        script = os.path.join(workdir, "bare_local_cluster.py")
        with open(script, "w") as f:
            f.write(BARE_SCRIPT)
        server = Server(workdir)
        try:
            await server.wait_ready()
            await clustercraft_start(server, 1)  # warm the page cache for both sides
            print(f"{'N':>2} {'clustercraft (s)':>17} {'bare LocalCluster (s)':>22} {'ratio':>6}")
            for n_workers in (2, 4):
                ours, bare = [], []
                for _ in range(args.runs):
                    bare.append(bare_start(n_workers, script))
                    ours.append(await clustercraft_start(server, n_workers))
                ours_median, bare_median = statistics.median(ours), statistics.median(bare)
                print(
                    f"{n_workers:>2} {ours_median:>17.3f} {bare_median:>22.3f} "
                    f"{ours_median / bare_median:>6.2f}"
                )
            cpu = await idle_cpu(server, args.idle_seconds)
            print(
                f"jupyter server CPU, idle, 3 clusters + 1 subscriber, {args.idle_seconds:.0f} s: "
                f"{cpu:.2f} % of one core"
            )
        finally:
            server.stop()
    print("dask-labextension PUT /dask/clusters: not measured (no separate venv set up)")


if __name__ == "__main__":
    asyncio.run(main())
