"""The push channel: a snapshot on connect, then changes within a second."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

from clustercraft.schema import cluster_delta


class Feed:
    """The push channel as a subscriber sees it: messages applied to a dict of clusters."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.clusters: dict[str, dict] = {}
        self.kinds: list[str] = []

    def apply(self, message: dict) -> None:
        self.kinds.append(message["type"])
        if message["type"] == "snapshot":
            self.clusters = {c["id"]: c for c in message["clusters"]}
        elif message["type"] == "cluster":
            self.clusters[message["cluster"]["id"]] = message["cluster"]
        elif message["type"] == "removed":
            self.clusters.pop(message["id"], None)
        elif message["type"] == "delta":
            old = self.clusters[message["id"]]
            rows = {row["address"]: row for row in old["workers"]}
            rows.update({row["address"]: row for row in message["upserted"]})
            for address in message["removed"]:
                rows.pop(address)
            self.clusters[message["id"]] = {
                **old,
                **message["cluster"],
                "workers": sorted(rows.values(), key=lambda r: r["name"]),
            }

    async def next(self, predicate, timeout: float = 30.0) -> tuple[dict, float]:
        """The first message after which ``predicate(message)`` holds, and when it came."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "no matching message in time"
            raw = await asyncio.wait_for(self.ws.read_message(), remaining)
            assert raw is not None, "websocket closed"
            message = json.loads(raw)
            self.apply(message)
            if predicate(message):
                return message, time.time()

    async def until(self, cluster_id: str, predicate=lambda c: True, timeout: float = 30.0):
        """The cluster once an update of it makes ``predicate`` hold, and when that came."""

        def about(message: dict) -> bool:
            touched = message.get("id") or message.get("cluster", {}).get("id")
            cluster = self.clusters.get(cluster_id)
            return touched == cluster_id and cluster is not None and predicate(cluster)

        _, seen = await self.next(about, timeout)
        return self.clusters[cluster_id], seen


async def added_at(clusters, cluster: dict, worker_address: str) -> float:
    async with clusters.client(cluster, asynchronous=True) as client:
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
    feed = Feed(ws)
    snapshot, _ = await feed.next(lambda m: True)
    assert snapshot == {"type": "snapshot", "clusters": []}

    created = await clusters.create(n_workers=2)
    cluster, _ = await feed.until(created["id"])
    assert cluster["status"] == "starting"
    cluster, _ = await feed.until(created["id"], lambda c: c["status"] == "running")
    assert len(cluster["workers"]) == 2
    # Whole once, then only what changed.
    assert feed.kinds[:2] == ["snapshot", "cluster"]
    assert set(feed.kinds[2:]) <= {"delta"}

    # A worker dies: gone within 1 s; its nanny's replacement is pushed within 1 s of joining.
    async with clusters.client(cluster, asynchronous=True) as client:
        pids = await client.run(os.getpid)
    victim, pid = sorted(pids.items())[0]
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    _, seen = await feed.until(
        created["id"], lambda c: victim not in {w["address"] for w in c["workers"]}
    )
    assert seen - killed < 1.0
    cluster, seen = await feed.until(created["id"], lambda c: len(c["workers"]) == 2)
    (newcomer,) = {w["address"] for w in cluster["workers"]} - set(pids)
    assert seen - await added_at(clusters, cluster, newcomer) < 1.0

    # What the deltas built is what a fresh GET says.
    fresh = await clusters.get(created["id"])
    assert {w["address"] for w in feed.clusters[created["id"]]["workers"]} == {
        w["address"] for w in fresh["workers"]
    }

    await clusters.request("DELETE", created["id"])
    message, _ = await feed.next(lambda m: m["type"] == "removed")
    assert message == {"type": "removed", "id": created["id"]}
    ws.close()


async def test_nobody_subscribed_means_no_pushes(clusters, jp_ws_fetch):
    created = await clusters.create(n_workers=1, processes=False)
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    record = clusters.manager.records[created["id"]]
    await asyncio.sleep(0.5)  # the last pushes of the start settle
    before = record.cluster
    await asyncio.sleep(1.5)
    assert record.cluster is before  # the host sent nothing: no periodic snapshots

    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    feed = Feed(ws)
    snapshot, _ = await feed.next(lambda m: True)
    assert [c["id"] for c in snapshot["clusters"]] == [created["id"]]
    assert clusters.manager.listeners != set()
    ws.close()
    await asyncio.sleep(0.2)
    assert clusters.manager.listeners == set()


def test_a_delta_carries_only_what_changed():
    rows = [
        {"address": f"tcp://w{i}", "name": str(i), "memory": 10, "last_seen": 1.0} for i in range(3)
    ]
    old = {"id": "c", "n_workers": 3, "memory_used": 30, "workers": rows}
    assert cluster_delta(old, {**old, "workers": [dict(r, last_seen=2.0) for r in rows]}) is None

    changed = dict(rows[1], memory=99)
    new = {**old, "n_workers": 2, "memory_used": 109, "workers": [rows[0], changed]}
    assert cluster_delta(old, new) == {
        "type": "delta",
        "id": "c",
        "cluster": {"n_workers": 2, "memory_used": 109},
        "upserted": [changed],
        "removed": ["tcp://w2"],
    }


async def test_the_push_carries_every_state_a_rest_reply_gives(clusters):
    """A REST reply is never ahead of the push channel: the browser may take the pushed state
    as the newest, and the push never has to repeat what a reply alone said."""
    manager = clusters.manager
    created = await clusters.create(n_workers=1, processes=False, memory_limit="1 GiB")
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    pushed: list[dict] = []

    def listen(message: dict) -> None:
        if message.get("cluster", {}).get("id") == created["id"]:
            pushed.append(message["cluster"])

    manager.subscribe(listen)
    try:
        for body in ({"n_workers": 2}, {"adapt": {"minimum": 1, "maximum": 3}}, {"n_workers": 1}):
            response = await clusters.request("PATCH", created["id"], body=body)
            assert response.code == 200, response.body
            assert json.loads(response.body) in pushed, body
        response = await clusters.request("POST", created["id"], "reset-peaks", body="")
        assert json.loads(response.body) in pushed
    finally:
        manager.unsubscribe(listen)
    await clusters.request("DELETE", created["id"])
