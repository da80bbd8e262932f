"""Faults a user meets: a host killed, a host that stops answering. The card says why."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
import subprocess
import time

import pytest

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


async def test_deleting_a_host_that_has_not_opened_its_socket_takes_seconds(clusters):
    """DELETE right after POST: the host is still importing; it is not waited on for 20 s."""
    created = await clusters.create(n_workers=1, processes=False)
    tree = clusters.host_tree(created["id"])
    started = time.monotonic()
    response = await clusters.request("DELETE", created["id"])
    took = time.monotonic() - started
    assert response.code == 204, response.body
    assert took < 6, f"DELETE of a starting host took {took:.1f} s"
    deadline = time.monotonic() + 5
    while clusters.alive(tree):
        assert time.monotonic() < deadline, clusters.alive(tree)
        await asyncio.sleep(0.1)


async def test_deleted_clusters_leave_no_logs_behind(clusters):
    runtime_dir = clusters.manager.runtime_dir
    for _ in range(3):
        created = await clusters.create(n_workers=1, processes=False)
        await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
        assert os.path.exists(os.path.join(runtime_dir, f"{created['id']}.log"))
        await clusters.request("DELETE", created["id"])
    leftovers = [n for n in os.listdir(runtime_dir) if n.endswith((".log", ".tmp"))]
    assert leftovers == []


@pytest.fixture
def full_disk(tmp_path):
    """A real filesystem with no room left: a 4 MiB tmpfs filled to the last byte."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory) -> None:
    with open(os.path.join(directory, "filler"), "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


async def test_a_full_disk_is_named_and_leaves_no_partial_state(clusters, full_disk):
    manager = clusters.manager
    runtime_dir = manager.runtime_dir
    manager.runtime_dir = str(full_disk / "clustercraft")
    try:
        os.makedirs(manager.runtime_dir, mode=0o700)
        fill(full_disk)
        response = await clusters.request("POST", body={"name": "nospace", "n_workers": 1})
        if response.code == 201:  # the host started, then could not write: lost, saying why
            created = json.loads(response.body)
            deadline = time.monotonic() + 30
            while not (cluster := await clusters.get(created["id"]))["error"]:
                assert time.monotonic() < deadline, cluster
                await asyncio.sleep(0.1)
            assert cluster["status"] == "lost"
            assert "is full" in cluster["error"], cluster
            await clusters.request("DELETE", created["id"])
        else:
            assert response.code == 503, response.body
            assert "full" in json.loads(response.body)["message"]
        assert [n for n in os.listdir(manager.runtime_dir) if n.endswith(".tmp")] == []
    finally:
        manager.runtime_dir = runtime_dir
