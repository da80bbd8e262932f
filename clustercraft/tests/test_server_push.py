"""The push channel: a snapshot on connect, then changes within a second."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

from distributed import Client


async def next_message(ws, predicate, timeout: float = 30.0) -> tuple[dict, float]:
    """The first message matching ``predicate``, and the wall-clock time it arrived."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "no matching message in time"
        raw = await asyncio.wait_for(ws.read_message(), remaining)
        assert raw is not None, "websocket closed"
        message = json.loads(raw)
        if predicate(message):
            return message, time.time()


def cluster_update(cluster_id: str, predicate=lambda cluster: True):
    return lambda m: (
        m["type"] == "cluster" and m["cluster"]["id"] == cluster_id and predicate(m["cluster"])
    )


async def added_at(scheduler_address: str, worker_address: str) -> float:
    async with Client(scheduler_address, asynchronous=True) as client:
        events = await client.get_events("all")
    return max(
        stamp
        for stamp, event in events
        if isinstance(event, dict)
        and event.get("action") == "add-worker"
        and event.get("worker") == worker_address
    )


async def test_snapshot_then_worker_changes_within_a_second(clusters, jp_ws_fetch):
    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    snapshot = json.loads(await ws.read_message())
    assert snapshot == {"type": "snapshot", "clusters": []}

    created = await clusters.create(n_workers=2)
    message, _ = await next_message(ws, cluster_update(created["id"]))
    assert message["cluster"]["status"] == "starting"
    message, _ = await next_message(
        ws, cluster_update(created["id"], lambda c: c["status"] == "running")
    )
    cluster = message["cluster"]
    assert len(cluster["workers"]) == 2

    # Pushed at least once a second while subscribed, with nothing changing.
    start = time.monotonic()
    for _ in range(2):
        await next_message(ws, cluster_update(created["id"]), timeout=1.5)
    assert time.monotonic() - start < 2.5

    # A worker dies: gone within 1 s; its nanny's replacement is pushed within 1 s of joining.
    async with Client(cluster["scheduler_address"], asynchronous=True) as client:
        pids = await client.run(os.getpid)
    victim, pid = sorted(pids.items())[0]
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    _, seen = await next_message(
        ws,
        cluster_update(created["id"], lambda c: victim not in {w["address"] for w in c["workers"]}),
    )
    assert seen - killed < 1.0
    message, seen = await next_message(
        ws, cluster_update(created["id"], lambda c: c["n_workers"] == 2)
    )
    (newcomer,) = {w["address"] for w in message["cluster"]["workers"]} - set(pids)
    assert seen - await added_at(cluster["scheduler_address"], newcomer) < 1.0

    await clusters.request("DELETE", created["id"])
    message, _ = await next_message(ws, lambda m: m["type"] == "removed")
    assert message == {"type": "removed", "id": created["id"]}
    ws.close()


async def test_nobody_subscribed_means_no_pushes(clusters, jp_ws_fetch):
    created = await clusters.create(n_workers=1, processes=False)
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    record = clusters.manager.records[created["id"]]
    before = record.cluster
    await asyncio.sleep(1.5)
    assert record.cluster is before  # the host sent nothing: no periodic snapshots

    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    snapshot = json.loads(await ws.read_message())
    assert [c["id"] for c in snapshot["clusters"]] == [created["id"]]
    await next_message(ws, cluster_update(created["id"]), timeout=1.5)
    ws.close()
    await asyncio.sleep(0.2)
    assert clusters.manager.listeners == set()
