"""The Dask dashboard through the Jupyter server's proxy against the dashboard itself.

One real Jupyter server with clustercraft, one panel-launched cluster (2 workers x 1 thread),
headless Chromium (bench/dashboard_browser.js, playwright-core), all in one run:

1. First paint of the Task Stream page (``individual-task-stream``), proxied
   (``{server}/clustercraft/dashboard/{id}/individual-task-stream``, logged in by cookie as a
   browser is) and direct (``http://127.0.0.1:{dashboard port}/individual-task-stream``). Each
   load is cold (a fresh browser context: bokeh.min.js and the session come anew), the two
   columns alternate and swap order every run; after one untimed load of each. Printed: Paint
   Timing's first-paint and first-contentful-paint, the moment Bokeh's canvas was drawn, and
   the bytes the page transferred, median (min-max) of ``--runs``, and proxy / direct
   (target for first paint: <= 1.2).
2. While a 1,000-task graph runs (999 tasks of 20 ms and their sum), with the Task Stream page
   and with the status page open: the bytes per second of WebSocket frames and responses the
   page exchanged, proxied and direct, and the Jupyter server's CPU meanwhile.

    .venv/bin/python bench/bench_dashboard.py [--runs 9] [--tasks 1000]

Needs node with playwright-core (node_modules) and Chromium ($CHROMIUM, /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_cluster_start import Server
from distributed import Client

BENCH = Path(__file__).resolve().parent
TASK_SECONDS = 0.02
PAGES = ("individual-task-stream", "status")


def work(i: int) -> int:
    time.sleep(TASK_SECONDS)
    return i


def run_graph(address: str, tasks: int) -> float:
    """Seconds a graph of ``tasks`` tasks (all but one independent, then their sum) takes."""
    with Client(address) as client:
        started = time.perf_counter()
        parts = client.map(work, range(tasks - 1), pure=False)
        assert client.submit(sum, parts).result() == sum(range(tasks - 1))
        return time.perf_counter() - started


def direct_dashboard(address: str) -> str:
    with Client(address) as client:
        port = client.scheduler_info()["services"]["dashboard"]
    return f"http://127.0.0.1:{port}/"


class Browser:
    """bench/dashboard_browser.js: one JSON command and one JSON answer per line."""

    async def start(self) -> Browser:
        self.process = await asyncio.create_subprocess_exec(
            "node",
            str(BENCH / "dashboard_browser.js"),
            cwd=BENCH.parent,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return self

    async def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()
        answer = json.loads(await asyncio.wait_for(self.process.stdout.readline(), 180))
        if "error" in answer:
            raise RuntimeError(f"{command['cmd']}: {answer['error']}")
        return answer

    async def stop(self) -> None:
        self.process.stdin.write(b'{"cmd": "quit"}\n')
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def summary(values: list[float], unit: str = "ms") -> str:
    return f"{statistics.median(values):7.0f} ({min(values):.0f}-{max(values):.0f}) {unit}"


async def first_paint(browser: Browser, urls: dict[str, str], login: str, runs: int) -> None:
    page = "individual-task-stream"
    for column in urls:  # untimed: Chromium, the server and Bokeh warm up
        await browser.ask(cmd="paint", url=urls[column] + page, login=login)
    loads: dict[str, list[dict]] = {column: [] for column in urls}
    for run in range(runs):
        for column in list(urls)[:: 1 if run % 2 == 0 else -1]:
            answer = await browser.ask(cmd="paint", url=urls[column] + page, login=login)
            assert answer["status"] == 200, answer
            loads[column].append(answer)

    print(f"\nTask Stream page, {runs} cold loads per column, alternating")
    print(f"{'':24}{'direct':>28}{'proxy':>28}{'proxy / direct':>18}")
    for key, label, unit in (
        ("fp", "first paint", "ms"),
        ("fcp", "first contentful paint", "ms"),
        ("canvas", "plot drawn", "ms"),
        ("bytes", "bytes transferred", "B"),
    ):
        direct = [load[key] for load in loads["direct"]]
        proxy = [load[key] for load in loads["proxy"]]
        if None in direct + proxy:
            print(f"{label:24}{'(not reported by Chromium)':>56}")
            continue
        ratio = statistics.median(proxy) / statistics.median(direct)
        print(f"{label:24}{summary(direct, unit):>28}{summary(proxy, unit):>28}{ratio:>17.2f}x")


async def traffic(
    browser: Browser, urls: dict[str, str], login: str, server: Server, scheduler: str, tasks: int
) -> None:
    jupyter = psutil.Process(server.process.pid)
    print(
        f"\nWhile a {tasks:,}-task graph runs ({tasks - 1} tasks of {TASK_SECONDS * 1000:.0f} ms "
        "and their sum, 2 workers x 1 thread)"
    )
    print(
        f"{'page':24}{'column':>8}{'graph s':>10}{'bytes':>12}{'bytes/s':>12}{'frames':>8}"
        f"{'Jupyter CPU':>13}"
    )
    for page in PAGES:
        for column in urls:
            await browser.ask(cmd="watch", url=urls[column] + page, login=login)
            cpu = jupyter.cpu_times()
            seconds = await asyncio.to_thread(run_graph, scheduler, tasks)
            counted = await browser.ask(cmd="stop")
            used = sum(jupyter.cpu_times()[:2]) - sum(cpu[:2])
            rate = counted["bytes"] / counted["seconds"]
            print(
                f"{page:24}{column:>8}{seconds:>10.1f}{counted['bytes']:>12,}{rate:>12,.0f}"
                f"{counted['frames']:>8}{100 * used / counted['seconds']:>12.1f}%"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as workdir:
        server = Server(workdir)
        browser = None
        try:
            await server.wait_ready()
            cluster = await server.request("POST", body={"n_workers": 2, "threads_per_worker": 1})
            while cluster["status"] != "running" or cluster["n_workers"] < 2:
                assert cluster["status"] != "lost", cluster
                await asyncio.sleep(0.1)
                cluster = await server.request("GET", "/" + cluster["id"])
            origin = f"http://127.0.0.1:{server.port}"
            urls = {
                "direct": await asyncio.to_thread(direct_dashboard, cluster["scheduler_address"]),
                "proxy": origin + cluster["dashboard_link"].removesuffix("status"),
            }
            login = f"{origin}/api/status?token={server.token}"  # sets the login cookie
            print(f"proxy:  {urls['proxy']}\ndirect: {urls['direct']}")
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            browser = await Browser().start()
            await first_paint(browser, urls, login, args.runs)
            await traffic(browser, urls, login, server, cluster["scheduler_address"], args.tasks)
        finally:
            try:
                if browser is not None:
                    await browser.stop()
            finally:
                server.stop()  # and its cluster, also when the browser failed


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
