"""The standby host: started while a panel is subscribed, used by the next New cluster."""

from __future__ import annotations

import asyncio
import json
import os
import time

import psutil

from clustercraft.server import standby as standby_module
from clustercraft.server.hoststate import process_tree


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
    assert manager.standby.host is None  # nobody looking: no process started ahead
    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    json.loads(await ws.read_message())
    assert manager.standby.host is not None
    standby_id, standby = manager.standby.host
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
    await wait_until(lambda: manager.standby.host is not None, timeout=15)
    assert manager.standby.host[0] != standby_id
    ws.close()


async def test_shutdown_leaves_no_standby_behind(clusters, jp_ws_fetch, jp_serverapp):
    manager = clusters.manager
    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    json.loads(await ws.read_message())
    _, standby = manager.standby.host
    await wait_until(lambda: forkservers(standby.pid))
    processes = process_tree(standby.pid)
    ws.close()
    await jp_serverapp.cleanup_extensions()
    assert manager.standby.host is None
    assert clusters.alive(processes) == []


async def test_a_standby_exits_when_its_server_goes_away(clusters):
    manager = clusters.manager
    manager.standby.ensure()
    standby_id, standby = manager.standby.host
    manager.standby.host = None  # forget it, as a dead server would
    standby.stdin.close()  # what the server's death does to the pipe
    await wait_until(lambda: standby.poll() is not None, timeout=30)
    assert standby.returncode == 0
    assert standby_id not in manager.records


async def test_the_standby_stops_once_the_last_panel_has_gone(clusters, jp_ws_fetch, monkeypatch):
    monkeypatch.setattr(standby_module, "IDLE_SECONDS", 0.5)
    manager = clusters.manager
    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    json.loads(await ws.read_message())
    _, standby = manager.standby.host
    log_path = manager._log_path(manager.standby.host[0])
    processes = process_tree(standby.pid)
    ws.close()
    # Dropping ends with removing its log: a standby that ran no cluster leaves nothing.
    await wait_until(lambda: not os.path.exists(log_path), timeout=15)
    assert manager.standby.host is None
    assert clusters.alive(processes) == []


async def test_a_panel_back_in_time_keeps_the_standby(clusters, jp_ws_fetch, monkeypatch):
    monkeypatch.setattr(standby_module, "IDLE_SECONDS", 1.0)
    manager = clusters.manager
    first = await jp_ws_fetch("clustercraft", "clusters", "events")
    json.loads(await first.read_message())
    kept = manager.standby.host
    first.close()
    await asyncio.sleep(0.3)
    second = await jp_ws_fetch("clustercraft", "clusters", "events")  # a reload of the page
    json.loads(await second.read_message())
    await asyncio.sleep(1.5)
    assert manager.standby.host == kept
    assert kept[1].poll() is None
    second.close()
