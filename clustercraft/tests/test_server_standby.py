"""The standby host: started while a panel is subscribed, used by the next New cluster."""

from __future__ import annotations

import asyncio
import json
import time

import psutil

from clustercraft.server.manager import _process_tree


async def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def forkservers(host_pid: int) -> list[psutil.Process]:
    """The host's forkserver (forks keep its command line, so only direct children count)."""
    children = psutil.Process(host_pid).children()
    return [p for p in children if "forkserver" in " ".join(p.cmdline())]


async def test_subscribing_starts_a_standby_that_the_next_cluster_uses(clusters, jp_ws_fetch):
    manager = clusters.manager
    assert manager._standby is None  # nobody looking: no process started ahead
    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    json.loads(await ws.read_message())
    assert manager._standby is not None
    standby_id, standby = manager._standby
    # Warm: a forkserver with distributed imported waits beside it.
    await wait_until(lambda: forkservers(standby.pid))

    created = await clusters.create(n_workers=2)
    assert created["id"] == standby_id
    assert manager.records[standby_id].pid == standby.pid
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    assert len(cluster["workers"]) == 2

    # Worker processes are forks of the warm forkserver, not fresh interpreters.
    (forkserver,) = forkservers(standby.pid)
    assert len(forkserver.children()) == 2

    # Once nothing is starting, a new standby is ready for the next click.
    await wait_until(lambda: manager._standby is not None, timeout=15)
    assert manager._standby[0] != standby_id
    ws.close()


async def test_shutdown_leaves_no_standby_behind(clusters, jp_ws_fetch, jp_serverapp):
    manager = clusters.manager
    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    json.loads(await ws.read_message())
    _, standby = manager._standby
    await wait_until(lambda: forkservers(standby.pid))
    processes = _process_tree(standby.pid)
    ws.close()
    await jp_serverapp.cleanup_extensions()
    assert manager._standby is None
    assert clusters.alive(processes) == []


async def test_a_standby_exits_when_its_server_goes_away(clusters):
    manager = clusters.manager
    manager._ensure_standby()
    standby_id, standby = manager._standby
    manager._standby = None  # forget it, as a dead server would
    standby.stdin.close()  # what the server's death does to the pipe
    await wait_until(lambda: standby.poll() is not None, timeout=30)
    assert standby.returncode == 0
    assert standby_id not in manager.records
