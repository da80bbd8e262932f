"""Hosts outlive their server's restart, and belong to one live server at a time.

These drive several ClusterManager instances on one runtime dir, as several server
lifetimes (or several servers) would; test_two_servers.py does the same with real servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time

import psutil
import pytest

from clustercraft.server.hoststate import read_state
from clustercraft.server.manager import ClusterManager, UnknownCluster

GRACE = 3.0


async def wait_for(manager: ClusterManager, cluster_id: str, predicate, timeout: float = 30.0):
    """The cluster once ``predicate`` holds; a cluster not (yet) listed counts as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        cluster = None
        with contextlib.suppress(UnknownCluster):
            cluster = await manager.get(cluster_id)
        if cluster is not None and predicate(cluster):
            return cluster
        assert time.monotonic() < deadline, f"timed out; last state: {cluster}"
        await asyncio.sleep(0.05)


async def released(runtime_dir: str, cluster_id: str, timeout: float = 10.0) -> None:
    """Wait until the host has seen its owner go (a crashed server's socket closes)."""
    path = os.path.join(runtime_dir, f"{cluster_id}.json")
    deadline = time.monotonic() + timeout
    while read_state(path).lease_until != 0.0:
        assert time.monotonic() < deadline, "the host kept the lease of a server that went away"
        await asyncio.sleep(0.02)


async def launch(manager: ClusterManager, name: str, n_workers: int = 1) -> str:
    body = {"name": name, "n_workers": n_workers, "processes": False}
    cluster_id = (await manager.create(body))["id"]
    await wait_for(manager, cluster_id, lambda c: c["status"] == "running")
    return cluster_id


@pytest.fixture
def runtime_dir(tmp_path) -> str:
    return str(tmp_path / "clustercraft")


@pytest.fixture
def managers(runtime_dir, jp_asyncio_loop):
    """Make managers on one runtime dir; whatever a test leaves running is shut down."""
    made: list[ClusterManager] = []

    async def make(**kwargs) -> ClusterManager:
        manager = ClusterManager(runtime_dir=runtime_dir, **kwargs)
        await manager.start()
        made.append(manager)
        return manager

    yield make
    for manager in made:
        jp_asyncio_loop.run_until_complete(manager.shutdown())


async def test_reattach_after_restart_then_close_after_grace(managers, runtime_dir):
    first = await managers(grace_period=GRACE)
    cluster_id = await launch(first, "kept")
    host = psutil.Process(first.records[cluster_id].pid)
    await first.detach()  # the server dies without cleaning up
    await released(runtime_dir, cluster_id)

    second = await managers(grace_period=GRACE)
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

    third = await managers()
    assert third.records == {}


async def test_a_second_server_never_touches_a_live_servers_clusters(managers, runtime_dir):
    owner = await managers()
    cluster_id = await launch(owner, "owned")
    tree = [psutil.Process(owner.records[cluster_id].pid)]

    other = await managers()
    assert await other.list() == []  # held by a live server: not adoptable
    with pytest.raises(UnknownCluster):
        await other.delete(cluster_id)
    await other.shutdown()  # the repro: the other server's clean shutdown

    cluster = await owner.get(cluster_id)
    assert cluster["status"] == "running"
    assert all(process.is_running() for process in tree)
    state = read_state(os.path.join(runtime_dir, f"{cluster_id}.json"))
    assert state.owner == owner.server_id
    assert state.lease_until > time.time()


async def test_a_live_server_adopts_the_clusters_of_one_that_died(managers, runtime_dir):
    first = await managers()
    cluster_id = await launch(first, "orphan")
    second = await managers()
    assert second.records == {}

    await first.detach()  # the owner crashes while the other server runs
    cluster = await wait_for(second, cluster_id, lambda c: c["status"] == "running", 15)
    assert cluster["name"] == "orphan"
    state = read_state(os.path.join(runtime_dir, f"{cluster_id}.json"))
    assert state.owner == second.server_id

    processes = second.records[cluster_id].pid
    await second.delete(cluster_id)
    assert not psutil.pid_exists(processes) or psutil.Process(processes).status() == "zombie"


async def test_the_host_obeys_only_its_owner(managers, runtime_dir):
    owner = await managers()
    cluster_id = await launch(owner, "guarded")
    socket_path = owner.records[cluster_id].socket_path
    reader, writer = await asyncio.open_unix_connection(socket_path)

    async def ask(request: dict) -> dict:
        writer.write(json.dumps(request).encode() + b"\n")
        while True:
            message = json.loads(await reader.readline())
            if message.get("req") == request["req"]:
                return message

    refused = await ask({"req": 1, "op": "claim", "server": "somebody-else"})
    assert refused["ok"] is False
    assert "another running Jupyter server" in refused["message"]
    for op in ({"op": "close"}, {"op": "scale", "n": 3}, {"op": "adapt", "minimum": None}):
        reply = await ask({"req": 2, **op})
        assert reply["ok"] is False, op
    assert (await ask({"req": 3, "op": "snapshot"}))["ok"] is True  # looking is allowed
    writer.close()
    cluster = await owner.get(cluster_id)
    assert cluster["status"] == "running"
    assert cluster["requested_workers"] == 1


async def test_a_reused_pid_is_never_signalled(managers, runtime_dir):
    manager = await managers()
    cluster_id = await launch(manager, "gone")
    record = manager.records[cluster_id]
    os.kill(record.pid, signal.SIGKILL)
    await wait_for(manager, cluster_id, lambda c: c["status"] == "lost", 10)

    stranger = subprocess.Popen(["sleep", "60"])  # the system gave the host's pid to another
    try:
        record.pid = stranger.pid
        await manager.delete(cluster_id)
        assert stranger.poll() is None, "delete signalled a process that is not the host"
        assert not os.path.exists(os.path.join(runtime_dir, f"{cluster_id}.json"))

        # A state file naming that pid is stale: not adopted, not signalled, removed.
        stale = os.path.join(runtime_dir, "feedf00d.json")
        with open(stale, "w") as f:
            json.dump(_state_naming(stranger.pid, "feedf00d"), f)
        other = await managers()
        assert other.records == {}
        assert stranger.poll() is None
        assert not os.path.exists(stale)
    finally:
        stranger.kill()
        stranger.wait()


async def test_an_unusable_state_file_does_not_stop_the_others(managers, runtime_dir):
    first = await managers()
    cluster_id = await launch(first, "survivor")
    await first.detach()
    await released(runtime_dir, cluster_id)
    bad = {"000.json": '{"id": "000", "pid": null}', "111.json": "[]", "222.json": "{"}
    for name, text in bad.items():
        with open(os.path.join(runtime_dir, name), "w") as f:
            f.write(text)

    second = await managers()
    assert list(second.records) == [cluster_id]
    assert all(os.path.exists(os.path.join(runtime_dir, name)) for name in bad)


def _state_naming(pid: int, cluster_id: str) -> dict:
    import socket

    return {
        "id": cluster_id,
        "name": "stale",
        "pid": pid,
        "create_time": psutil.Process(pid).create_time() - 100.0,
        "hostname": socket.gethostname(),
        "socket": "/nonexistent.sock",
        "started": time.time(),
        "spec": {"n_workers": 1},
        "owner": "dead-server",
        "lease_until": 0.0,
    }
