"""Two real Jupyter servers on one runtime dir: neither closes the other's clusters."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest

TOKEN = "two-servers-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """A `jupyter server` process with clustercraft enabled, driven over HTTP."""

    def __init__(self, runtime_dir: str, root: str) -> None:
        self.port = free_port()
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": runtime_dir}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                "--no-browser",
                "--allow-root",
                f"--ServerApp.root_dir={root}",
                f"--IdentityProvider.token={TOKEN}",
                "--ServerApp.jpserver_extensions=clustercraft=True",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.wait_ready()

    def request(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, self.process.stderr.read().decode()[-2000:]
            try:
                self.request("GET", "clustercraft/clusters")
                return
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)

    def shutdown(self, timeout: float = 60.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(urllib.error.URLError, ConnectionError):
                self.request("POST", "api/shutdown")
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stderr.close()

    def wait_for(self, cluster_id: str, predicate, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            _, cluster = self.request("GET", f"clustercraft/clusters/{cluster_id}")
            if predicate(cluster):
                return cluster
            assert time.monotonic() < deadline, f"timed out; last state {cluster}"
            time.sleep(0.1)


@pytest.fixture
def servers(tmp_path):
    runtime_dir = str(tmp_path / "runtime")
    started: list[JupyterServer] = []

    def start() -> JupyterServer:
        server = JupyterServer(runtime_dir, str(tmp_path))
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()


def test_shutting_down_a_second_server_leaves_the_first_ones_clusters_running(servers):
    first = servers()
    status, created = first.request(
        "POST", "clustercraft/clusters", {"name": "precious", "n_workers": 1, "processes": False}
    )
    assert status == 201
    cluster = first.wait_for(created["id"], lambda c: c["status"] == "running")
    host = psutil.Process(_host_pid(cluster["id"], first))

    second = servers()
    assert second.request("GET", "clustercraft/clusters") == (200, [])
    second.shutdown()  # POST /api/shutdown: a clean shutdown closes only its own clusters
    assert second.process.returncode == 0

    assert first.request("GET", f"clustercraft/clusters/{cluster['id']}")[1]["status"] == "running"
    assert host.is_running()

    first.shutdown()  # and the owner's own clean shutdown still closes its clusters
    host.wait(30)


def _host_pid(cluster_id: str, server: JupyterServer) -> int:
    """The pid of the host process the server started for the cluster."""
    for process in psutil.Process(server.process.pid).children(recursive=False):
        if cluster_id in process.cmdline():
            return process.pid
    raise AssertionError("no host process for the cluster")
