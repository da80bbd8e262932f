"""Every cluster in one list: a real kernel the server did not start, and schedulers adopted by
their address (real `dask scheduler` and `dask worker` processes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
from jupyter_client.manager import AsyncKernelManager

from clustercraft.server.hoststate import HOST_MODULE
from clustercraft.server.spec import SpecError, validate_address

# ---------------------------------------------------------------- helpers


@pytest.fixture
def jp_server_config(jp_server_config):
    # No standby host: a subscribed listener would start one, for nothing here.
    return {**jp_server_config, "ClusterManager": {"standby_host": False}}


class Kernel:
    """A real IPython kernel started with jupyter_client, as `jupyter console` would, with a
    connection file named like a Jupyter server's (``kernel-<id>.json``)."""

    async def start(self, runtime_dir: str, connection_dir: str) -> Kernel:
        env = {**os.environ, "CLUSTERCRAFT_RUNTIME_DIR": runtime_dir}
        env.pop("JPY_SESSION_NAME", None)
        self.id = "0123abcd-kernel"
        self.manager = AsyncKernelManager(
            kernel_name="python3",
            connection_file=os.path.join(connection_dir, f"kernel-{self.id}.json"),
        )
        await self.manager.start_kernel(env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=60)
        self.pid = self.manager.provisioner.process.pid
        return self

    async def run(self, code: str) -> str:
        """Run ``code``; its stdout. Fails on an error."""
        return await execute(self.client, code)

    async def stop(self) -> None:
        self.client.stop_channels()
        if await self.manager.is_alive():
            await self.manager.shutdown_kernel(now=True)


async def execute(client, code: str) -> str:
    """Run ``code`` in the kernel of ``client``; its stdout. Fails on an error."""
    out: list[str] = []

    def hook(message) -> None:
        if message["msg_type"] == "stream":
            out.append(message["content"]["text"])

    reply = await client.execute_interactive(code, timeout=120, output_hook=hook)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out)


@pytest.fixture
def kernel(clusters, tmp_path, jp_asyncio_loop):
    kernel = Kernel()
    yield jp_asyncio_loop.run_until_complete(
        kernel.start(clusters.manager.runtime_dir, str(tmp_path))
    )
    jp_asyncio_loop.run_until_complete(kernel.stop())


@pytest.fixture
def events(clusters, jp_asyncio_loop):
    """What the server pushes to a subscribed panel."""
    received: list[dict] = []
    clusters.manager.subscribe(received.append)
    yield received

    async def unsubscribe() -> None:
        clusters.manager.unsubscribe(received.append)

    jp_asyncio_loop.run_until_complete(unsubscribe())


async def listed(clusters, predicate, timeout: float = 30.0) -> dict:
    """The first cluster in GET /clusters for which ``predicate`` holds (waiting for it)."""
    deadline = time.monotonic() + timeout
    while True:
        response = await clusters.request("GET")
        found = [c for c in json.loads(response.body) if predicate(c)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"not listed; the list: {response.body[:2000]}"
        await asyncio.sleep(0.1)


async def unlisted(clusters, cluster_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (await clusters.request("GET", cluster_id)).code != 404:
        assert time.monotonic() < deadline, "the cluster is still listed"
        await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def end(process: subprocess.Popen) -> None:
    """Stop a process this test started, with its children (a worker's nanny has one)."""
    tree = []
    with contextlib.suppress(psutil.Error):
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(True)]
    for member in tree:
        with contextlib.suppress(psutil.Error):
            member.terminate()
    psutil.wait_procs(tree, timeout=10)
    for member in tree:
        with contextlib.suppress(psutil.Error):
            member.kill()
    process.wait()


@pytest.fixture
def scheduler():
    """A `dask scheduler` and one `dask worker` (with its nanny), started elsewhere."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
            + ["--port", str(port), "--dashboard-address", "127.0.0.1:0"],
            **quiet,
        )
    ]
    started.append(
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1"]
            + ["--memory-limit", "1GiB", "--no-dashboard", "--name", "elsewhere-0"],
            **quiet,
        )
    )
    yield address, started[0], started[1]
    for process in started:
        end(process)


def hosts_of(cluster_id: str) -> list[psutil.Process]:
    """Host processes of ``cluster_id`` still running."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if HOST_MODULE in command and cluster_id in command:
            with contextlib.suppress(psutil.Error):
                if process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
    return found


# ---------------------------------------------------------------- kernels


async def test_a_kernel_the_server_did_not_start_lists_its_cluster(clusters, kernel, events):
    await kernel.run("%load_ext clustercraft")
    await kernel.run(
        "from distributed import LocalCluster\n"
        "cluster = LocalCluster(n_workers=1, processes=False, dashboard_address='127.0.0.1:0')"
    )
    cluster = await listed(clusters, lambda c: c["origin"] == "kernel")
    assert cluster["kernel"]["pid"] == kernel.pid
    assert cluster["kernel"]["id"] == kernel.id  # from the kernel's connection file
    assert cluster["name"].startswith("LocalCluster ")
    assert cluster["status"] == "running"
    assert cluster["profile"] is None
    assert (
        cluster["scheduler_address"] == (await kernel.run("print(cluster.scheduler_address)"))[:-1]
    )
    cluster = await clusters.wait_for(cluster["id"], lambda c: c["n_workers"] == 1)
    workers = await kernel.run("print(*cluster.scheduler.workers)")
    assert [cluster["workers"][0]["address"]] == workers.split()
    assert cluster["workers"][0]["nthreads"] >= 1
    assert cluster["dashboard_link"].endswith(f"/clustercraft/dashboard/{cluster['id']}/status")

    # Scale from the REST API: the kernel's own cluster object gets 2 workers.
    response = await clusters.request("PATCH", cluster["id"], body={"n_workers": 2})
    assert response.code == 200, response.body
    await clusters.wait_for(cluster["id"], lambda c: c["n_workers"] == 2)
    assert await kernel.run("print(len(cluster.scheduler.workers))") == "2\n"

    # Adapt, then back to a fixed size, as the panel's Scale dialog does.
    response = await clusters.request(
        "PATCH", cluster["id"], body={"adapt": {"minimum": 1, "maximum": 3}}
    )
    assert json.loads(response.body)["adapt"] == {"minimum": 1, "maximum": 3}
    assert await kernel.run("print(cluster._adaptive is not None)") == "True\n"
    response = await clusters.request("PATCH", cluster["id"], body={"n_workers": 1})
    assert json.loads(response.body)["adapt"] is None
    await clusters.wait_for(cluster["id"], lambda c: c["n_workers"] == 1)

    # Closed in the kernel: it leaves the list, as removed, never lost.
    await kernel.run("cluster.close()")
    await unlisted(clusters, cluster["id"])
    assert {"type": "removed", "id": cluster["id"]} in events
    assert not any(
        e.get("cluster", {}).get("id") == cluster["id"] and e["cluster"]["status"] == "lost"
        for e in events
    )
    runtime = clusters.manager.runtime_dir
    assert not [name for name in os.listdir(runtime) if name.startswith(cluster["id"])]


async def test_a_notebooks_kernel_started_by_the_server_names_its_notebook(
    clusters, jp_fetch, jp_serverapp
):
    body = {"path": "analysis.ipynb", "type": "notebook", "name": "analysis.ipynb"}
    body["kernel"] = {"name": "python3"}
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    session = json.loads(response.body)
    client = jp_serverapp.kernel_manager.get_kernel(session["kernel"]["id"]).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        await execute(
            client,
            "%load_ext clustercraft\nfrom distributed import LocalCluster\n"
            "cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=':0')",
        )
        cluster = await listed(clusters, lambda c: c["origin"] == "kernel")
        assert cluster["kernel"]["id"] == session["kernel"]["id"]
        assert cluster["kernel"]["notebook"].endswith("analysis.ipynb")
        assert (await clusters.request("DELETE", cluster["id"])).code == 204
    finally:
        client.stop_channels()
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_the_implicit_cluster_of_client_leaves_when_its_kernel_dies(clusters, kernel, events):
    await kernel.run(
        "%load_ext clustercraft\n"
        "from distributed import Client\n"
        "client = Client(n_workers=1, processes=False, dashboard_address='127.0.0.1:0')"
    )
    cluster = await listed(clusters, lambda c: c["origin"] == "kernel" and c["n_workers"] == 1)
    assert cluster["kernel"]["pid"] == kernel.pid
    address = (await kernel.run("print(client.scheduler.address)")).strip()
    assert cluster["scheduler_address"] == address

    os.kill(kernel.pid, signal.SIGKILL)  # nothing in the kernel cleans up
    await unlisted(clusters, cluster["id"])
    assert {"type": "removed", "id": cluster["id"]} in events
    runtime = clusters.manager.runtime_dir
    deadline = time.monotonic() + 10
    while [name for name in os.listdir(runtime) if name.startswith(cluster["id"])]:
        assert time.monotonic() < deadline, "the dead kernel's socket and state file stayed"
        await asyncio.sleep(0.1)


async def test_shut_down_closes_a_kernels_cluster_in_the_kernel(clusters, kernel):
    await kernel.run(
        "%load_ext clustercraft\n"
        "from distributed import LocalCluster\n"
        "cluster = LocalCluster(n_workers=1, processes=False, dashboard_address='127.0.0.1:0')"
    )
    cluster = await listed(clusters, lambda c: c["origin"] == "kernel")
    forget = await clusters.request("DELETE", cluster["id"], params={"forget": "1"})
    assert forget.code == 409, forget.body  # listed while it runs in its kernel
    response = await clusters.request("DELETE", cluster["id"])
    assert response.code == 204, response.body
    assert (await clusters.request("GET", cluster["id"])).code == 404
    assert (await kernel.run("print(cluster.status.name)")) == "closed\n"
    assert psutil.pid_exists(kernel.pid)  # the kernel itself is never signalled

    # A clean server shutdown lets go of kernels' clusters: they keep running.
    await kernel.run(
        "cluster = LocalCluster(n_workers=1, processes=False, dashboard_address='127.0.0.1:0')"
    )
    await listed(clusters, lambda c: c["origin"] == "kernel")
    await clusters.manager.shutdown()
    assert (await kernel.run("print(cluster.status.name)")) == "running\n"


async def test_an_asynchronous_cluster_on_the_kernels_own_loop(clusters, kernel):
    await kernel.run(
        "%load_ext clustercraft\n"
        "from distributed import LocalCluster\n"
        "cluster = await LocalCluster(n_workers=1, processes=False, asynchronous=True,"
        " dashboard_address='127.0.0.1:0')"
    )
    cluster = await listed(clusters, lambda c: c["origin"] == "kernel" and c["n_workers"] == 1)
    response = await clusters.request("PATCH", cluster["id"], body={"n_workers": 2})
    assert response.code == 200, response.body
    await clusters.wait_for(cluster["id"], lambda c: c["n_workers"] == 2)
    response = await clusters.request("DELETE", cluster["id"])
    assert response.code == 204, response.body
    assert (await kernel.run("print(cluster.status.name)")) == "closed\n"


# ---------------------------------------------------------------- by address


async def test_a_scheduler_started_elsewhere_is_adopted_forgotten_and_shut_down(
    clusters, scheduler
):
    address, scheduler_process, worker_process = scheduler
    response = await clusters.request("POST", body={"address": address, "name": "colleague"})
    assert response.code == 201, response.body
    cluster = json.loads(response.body)
    assert cluster["origin"] == "address"
    assert cluster["name"] == "colleague"
    assert cluster["scheduler_address"] == address
    cluster = await clusters.wait_for(cluster["id"], lambda c: c["n_workers"] == 1)
    assert cluster["workers"][0]["name"] == "elsewhere-0"
    assert cluster["workers"][0]["memory_limit"] == 2**30
    assert cluster["processes"] is True  # the worker has a nanny
    assert cluster["dashboard_link"].endswith(f"/clustercraft/dashboard/{cluster['id']}/status")

    refused = await clusters.request("PATCH", cluster["id"], body={"n_workers": 2})
    assert refused.code == 409
    assert "started elsewhere" in json.loads(refused.body)["message"]
    again = await clusters.request("POST", body={"address": address})
    assert again.code == 409 and json.loads(again.body)["field"] == "address"

    # Forget: out of the list, its host gone, the scheduler and worker untouched.
    response = await clusters.request("DELETE", cluster["id"], params={"forget": "1"})
    assert response.code == 204, response.body
    assert json.loads((await clusters.request("GET")).body) == []
    assert hosts_of(cluster["id"]) == []
    assert scheduler_process.poll() is None and worker_process.poll() is None

    # Adopted again, then shut down: the scheduler exits, and its worker with it.
    response = await clusters.request("POST", body={"address": address})
    assert response.code == 201, response.body
    cluster = json.loads(response.body)
    assert cluster["name"] == address
    response = await clusters.request("DELETE", cluster["id"])
    assert response.code == 204, response.body
    assert json.loads((await clusters.request("GET")).body) == []
    await asyncio.to_thread(scheduler_process.wait, 30)
    await asyncio.to_thread(worker_process.wait, 60)


async def test_a_scheduler_that_stops_answering_is_lost_and_can_be_removed(clusters, scheduler):
    address, scheduler_process, _ = scheduler
    response = await clusters.request("POST", body={"address": address})
    assert response.code == 201, response.body
    cluster_id = json.loads(response.body)["id"]
    end(scheduler_process)
    cluster = await listed(clusters, lambda c: c["id"] == cluster_id and c["status"] == "lost")
    assert cluster["error"]
    response = await clusters.request("DELETE", cluster_id)
    assert response.code == 204, response.body
    assert json.loads((await clusters.request("GET")).body) == []
    assert hosts_of(cluster_id) == []


async def test_a_tls_scheduler_is_adopted_with_its_credentials(clusters, tmp_path):
    from distributed.security import Security

    credentials = Security.temporary()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text(credentials.tls_ca_file)
    key.write_text(credentials.tls_client_key)
    port = free_port()
    address = f"tls://127.0.0.1:{port}"
    command = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--protocol", "tls"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"]
    command += ["--tls-ca-file", str(cert), "--tls-cert", str(cert), "--tls-key", str(key)]
    scheduler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        missing = await clusters.request("POST", body={"address": address})
        assert missing.code == 400 and json.loads(missing.body)["field"] == "security"
        security = {
            "tls_ca_file": str(cert),
            "tls_client_cert": str(cert),
            "tls_client_key": credentials.tls_client_key,  # PEM text works as well as a path
        }
        deadline = time.monotonic() + 30
        while True:  # the scheduler may still be starting
            response = await clusters.request(
                "POST", body={"address": address, "security": security}
            )
            if response.code != 400 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert response.code == 201, response.body
        cluster = json.loads(response.body)
        assert cluster["status"] == "running" and cluster["scheduler_address"] == address
        runtime = clusters.manager.runtime_dir
        for name in (n for n in os.listdir(runtime) if n.endswith((".json", ".log"))):
            # the key never reaches a file of ours
            with open(os.path.join(runtime, name), errors="replace") as f:
                assert "PRIVATE KEY" not in f.read(), name
        response = await clusters.request("DELETE", cluster["id"])
        assert response.code == 204, response.body
        await asyncio.to_thread(scheduler.wait, 30)
    finally:
        end(scheduler)


async def test_nothing_answering_at_an_address_is_a_400_naming_it(clusters):
    dead = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    response = await clusters.request("POST", body={"address": dead})
    assert response.code == 400, response.body
    body = json.loads(response.body)
    assert body["field"] == "address"
    assert dead in body["message"]
    assert time.monotonic() - started < 20
    assert json.loads((await clusters.request("GET")).body) == []
    runtime = clusters.manager.runtime_dir
    left = [n for n in os.listdir(runtime) if n.endswith((".json", ".sock"))]
    assert left in ([], ["profiles.json"])  # no host state, no socket
    assert not [p for p in psutil.Process().children(True) if HOST_MODULE in p.cmdline()]

    for bad in ("127.0.0.1:8786", "http://127.0.0.1:8786", "tcp://127.0.0.1", "tcp://h:99999"):
        response = await clusters.request("POST", body={"address": bad})
        assert response.code == 400, bad
        assert json.loads(response.body)["field"] == "address", bad


def test_an_address_request_is_checked_before_anything_starts(tmp_path):
    assert validate_address({"address": " tcp://10.0.0.5:8786 "}).address == "tcp://10.0.0.5:8786"
    with pytest.raises(SpecError) as error:
        validate_address({"address": "tls://10.0.0.5:8786"})
    assert error.value.field == "security"
    with pytest.raises(SpecError) as error:
        validate_address({"address": "tcp://10.0.0.5:8786", "security": {}})
    assert error.value.field == "security"
    pem = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
    key = tmp_path / "key.pem"
    key.write_text(pem)
    security = {"tls_ca_file": pem, "tls_client_cert": pem, "tls_client_key": str(key)}
    request = validate_address({"address": "tls://[::1]:8786", "security": security})
    assert request.security == security
    with pytest.raises(SpecError) as error:
        validate_address(
            {"address": "tls://h:1", "security": {**security, "tls_client_key": "/nonexistent"}}
        )
    assert error.value.field == "security.tls_client_key"
    assert re.search("no such file", str(error.value))
