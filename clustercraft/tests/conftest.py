import atexit
import os
import shutil
import tempfile

import pytest

# Kernels of module-scoped fixtures list their clusters here, never in the user's runtime dir;
# each test gets its own (clustercraft_runtime_dir below).
_SESSION_RUNTIME = tempfile.mkdtemp(prefix="clustercraft-tests-")
os.environ["CLUSTERCRAFT_RUNTIME_DIR"] = _SESSION_RUNTIME
atexit.register(shutil.rmtree, _SESSION_RUNTIME, ignore_errors=True)

# queues: the `slurm` and `gateway` fixtures (a real one-node SLURM, a local Dask Gateway).
pytest_plugins = ["pytest_jupyter.jupyter_server", "clustercraft.tests.queues"]


@pytest.fixture
def jp_server_config(jp_server_config):
    return {"ServerApp": {"jpserver_extensions": {"clustercraft": True}}}


@pytest.fixture(autouse=True)
def clustercraft_runtime_dir(tmp_path, monkeypatch):
    """Each test's own runtime dir, for its servers and for kernels that list their clusters
    (``%load_ext clustercraft``, here or in kernels the test starts): never the user's."""
    path = tmp_path / "clustercraft-runtime"
    monkeypatch.setenv("CLUSTERCRAFT_RUNTIME_DIR", str(path))
    return str(path)


# ---------------------------------------------------------------- cluster manager (issue 3)

import asyncio  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import psutil  # noqa: E402


class ClusterApi:
    """The /clustercraft/clusters routes of a real test server, plus process inspection."""

    def __init__(self, jp_fetch, serverapp) -> None:
        self.fetch = jp_fetch
        self.manager = serverapp.web_app.settings["clustercraft_manager"]

    async def request(self, method: str, *path: str, body=None, **kwargs):
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
        return await self.fetch(
            "clustercraft", "clusters", *path, method=method, body=body, raise_error=False, **kwargs
        )

    async def create(self, **spec) -> dict:
        response = await self.request("POST", body=spec)
        assert response.code == 201, response.body
        return json.loads(response.body)

    async def get(self, cluster_id: str) -> dict:
        response = await self.request("GET", cluster_id)
        assert response.code == 200, response.body
        return json.loads(response.body)

    async def wait_for(self, cluster_id: str, predicate, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            cluster = await self.get(cluster_id)
            if predicate(cluster):
                return cluster
            assert cluster["status"] != "lost", f"cluster lost: {cluster}"
            assert time.monotonic() < deadline, f"timed out; last state: {cluster}"
            await asyncio.sleep(0.05)

    def client(self, cluster: dict, **kwargs):
        """A Client of a panel cluster, with its TLS credentials (as clustercraft.connect)."""
        from distributed import Client

        from clustercraft.runtime import client_security

        security = client_security(self.manager.runtime_dir, cluster["id"])
        return Client(cluster["scheduler_address"], security=security, **kwargs)

    def host_tree(self, cluster_id: str) -> list[psutil.Process]:
        host = psutil.Process(self.manager.records[cluster_id].pid)
        return [host, *host.children(recursive=True)]

    @staticmethod
    def alive(processes) -> list[psutil.Process]:
        """The processes still running (zombies count as gone)."""
        running = []
        for process in processes:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    running.append(process)
            except psutil.NoSuchProcess:
                pass
        return running


@pytest.fixture
def clusters(jp_fetch, jp_serverapp):
    return ClusterApi(jp_fetch, jp_serverapp)
