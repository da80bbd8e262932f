"""A restarted server reattaches to running hosts; an orphaned host closes after its grace time.

Two Jupyter servers in one test are impractical with pytest-jupyter's singleton app, so this
drives two ClusterManager instances on the same runtime dir, as two server lifetimes would.
"""

from __future__ import annotations

import asyncio
import os
import time

import psutil

from clustercraft.server.manager import ClusterManager

GRACE = 3.0


async def wait_for(manager: ClusterManager, cluster_id: str, predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not predicate(cluster := await manager.get(cluster_id)):
        assert time.monotonic() < deadline, f"timed out; last state: {cluster}"
        await asyncio.sleep(0.05)
    return cluster


async def test_reattach_after_restart_then_close_after_grace(tmp_path):
    runtime_dir = str(tmp_path / "clustercraft")
    first = ClusterManager(runtime_dir=runtime_dir, grace_period=GRACE)
    await first.start()
    spec = first.validate_spec({"name": "kept", "n_workers": 1, "processes": False})
    cluster_id = (await first.create(spec))["id"]
    await wait_for(first, cluster_id, lambda c: c["status"] == "running")
    host = psutil.Process(first.records[cluster_id].pid)
    await first.detach()  # the server dies without cleaning up

    second = ClusterManager(runtime_dir=runtime_dir, grace_period=GRACE)
    await second.start()
    cluster = await wait_for(second, cluster_id, lambda c: c["status"] == "running", 5)
    assert cluster["name"] == "kept"
    assert cluster["n_workers"] == 1
    await second.scale(cluster_id, {"n_workers": 2})
    await wait_for(second, cluster_id, lambda c: c["n_workers"] == 2)
    await second.detach()  # and this server never comes back

    started_waiting = time.monotonic()
    await asyncio.to_thread(host.wait, GRACE + 15)
    assert time.monotonic() - started_waiting >= GRACE - 0.5
    assert not os.path.exists(os.path.join(runtime_dir, f"{cluster_id}.json"))

    third = ClusterManager(runtime_dir=runtime_dir, grace_period=GRACE)
    await third.start()
    assert third.records == {}


async def test_stale_state_files_are_dropped(tmp_path):
    runtime_dir = tmp_path / "clustercraft"
    runtime_dir.mkdir()
    stale = runtime_dir / "deadbeef.json"
    stale.write_text('{"id": "deadbeef", "pid": 999999999, "socket": "/nonexistent"}')
    manager = ClusterManager(runtime_dir=str(runtime_dir))
    await manager.start()
    assert manager.records == {}
    assert not stale.exists()
