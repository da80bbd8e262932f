"""Faults a user meets: a host killed, a host that stops answering. The card says why."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from clustercraft.server import health


async def test_a_killed_host_is_lost_and_says_how_it_ended(clusters):
    created = await clusters.create(n_workers=1, processes=False)
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    os.kill(clusters.manager.records[created["id"]].pid, signal.SIGKILL)

    deadline = time.monotonic() + 15
    while True:
        cluster = await clusters.get(created["id"])
        if cluster["status"] == "lost" and cluster["error"]:
            break
        assert time.monotonic() < deadline, cluster
        await asyncio.sleep(0.1)
    assert cluster["error"].startswith("Lost: its host process was killed by SIGKILL")
    assert "its log ends:" in cluster["error"]  # the host logged its start
    assert cluster["dashboard_link"] is None
    await clusters.request("DELETE", created["id"])


async def test_a_stopped_host_is_said_to_be_silent_then_answers_again(clusters, monkeypatch):
    monkeypatch.setattr("clustercraft.server.manager.SILENCE", 0.5)
    monkeypatch.setattr("clustercraft.server.manager.ANSWER_TIMEOUT", 1.0)
    manager = clusters.manager
    created = await clusters.create(n_workers=1, processes=False)
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    record = manager.records[created["id"]]
    os.kill(record.pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(1.0)
        await manager._check_silent_hosts()
        cluster = record.to_json()
        assert cluster["status"] == "running"  # it may come back: not lost
        assert cluster["error"].startswith("The cluster's host is not answering")
    finally:
        os.kill(record.pid, signal.SIGCONT)
    cluster = await clusters.wait_for(created["id"], lambda c: not c["error"], timeout=15)
    assert cluster["status"] == "running"
    await clusters.request("DELETE", created["id"])


def test_the_log_tail_is_short_and_the_exit_is_named(tmp_path):
    log = tmp_path / "host.log"
    log.write_text("\n".join(f"line {i}" for i in range(100)) + "\n\n")
    assert health.log_tail(str(log)) == "line 97 | line 98 | line 99"
    assert health.log_tail(str(tmp_path / "none.log")) == ""
    assert health.exit_reason(None) == "its host process went away"
