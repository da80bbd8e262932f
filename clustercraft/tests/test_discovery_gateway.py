"""A GatewayCluster made in a Python process is listed like a LocalCluster: its workers come
through the scheduler's comm, Scale and Shut down go through the gateway (real local gateway)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from clustercraft.kernel.discovery import ClusterDiscovery
from clustercraft.server.manager import ClusterManager, UnknownCluster

pytestmark = pytest.mark.filterwarnings(
    # dask-gateway 2026.3: Gateway.__del__ closes a closed Gateway again (see test_queues.py).
    "ignore:Exception ignored in. <function Gateway.__del__:pytest.PytestUnraisableExceptionWarning"
)


async def until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)
    return result


async def test_a_gateway_cluster_made_in_a_process_is_listed_scaled_and_shut_down(
    gateway, tmp_path
):
    runtime = str(tmp_path / "runtime")
    discovery = ClusterDiscovery(runtime)
    discovery.start()
    manager = ClusterManager(runtime_dir=runtime, standby_host=False)
    await manager.start()
    client = await asyncio.to_thread(gateway.connect)
    cluster = await asyncio.to_thread(client.new_cluster)
    try:

        async def listed():
            found = [c for c in await manager.list() if c["origin"] == "kernel"]
            return found[0] if found else None

        listed_cluster = await until(listed, 30, "the gateway cluster is not listed")
        assert listed_cluster["name"] == f"GatewayCluster {cluster.name}"
        cluster_id = listed_cluster["id"]

        await manager.scale(cluster_id, {"n_workers": 1})

        async def one_worker():
            return (await manager.get(cluster_id))["n_workers"] == 1

        await until(one_worker, 180, "the gateway's worker did not show")

        await manager.delete(cluster_id)
        with pytest.raises(UnknownCluster):
            await manager.get(cluster_id)
        assert cluster.status == "closed"
        names = await asyncio.to_thread(lambda: [c.name for c in client.list_clusters()])
        assert cluster.name not in names
    finally:
        await manager.shutdown()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(cluster.close)
        await asyncio.to_thread(client.close)
        await asyncio.to_thread(discovery.stop)
