"""The verdict on a real run: each worker's exact peak and the memory restarts, through the
real REST routes of clusters in host processes."""

from __future__ import annotations

import json
import os
import time

from clustercraft.sizing.recommend import verdict
from clustercraft.tests.groundtruth import MiB, tolerance

LIMIT = 400 * MiB


def spike_to(target: int) -> tuple[int, int]:
    """In a worker: allocate (and touch) up to ``target`` bytes of RSS, free it at once.

    Returns (RSS before, RSS while the block was held): the second is the true peak. The
    spike lasts milliseconds, well under the 0.5 s between Dask's own memory samples.
    """
    import numpy as np

    from clustercraft.sizing.meter import read_status

    before = read_status()["VmRSS"]
    block = np.ones((target - before) // 8)
    held = read_status()["VmRSS"]
    del block
    return before, held


def exceed_limit_once(marker: str, nbytes: int) -> str:
    """In a worker: hold ``nbytes`` until the nanny kills the worker; a retry returns."""
    if os.path.exists(marker):
        return "retried"
    open(marker, "w").close()
    import numpy as np

    block = np.ones(nbytes // 8)
    time.sleep(60)
    return f"survived with {block.nbytes} bytes"


async def reset_peaks(clusters, cluster_id: str) -> dict:
    response = await clusters.request("POST", cluster_id, "reset-peaks", body="")
    assert response.code == 200, response.body
    return json.loads(response.body)


async def test_a_task_at_60_percent_of_the_limit_is_fine_to_the_byte(clusters):
    created = await clusters.create(n_workers=1, threads_per_worker=1, memory_limit=LIMIT)
    cluster = await clusters.wait_for(
        created["id"], lambda c: c["status"] == "running" and c["workers"][0]["memory_peak"]
    )
    # An idle worker has a peak (its own start), but no run to judge: no verdict yet.
    assert cluster["workers"][0]["ran_tasks"] is False
    assert verdict(cluster) is None
    async with clusters.client(cluster, asynchronous=True) as client:
        before, truth = await client.submit(spike_to, int(0.6 * LIMIT), pure=False)
    assert truth - before > 50 * MiB  # the spike, not the worker's start, makes the peak

    cluster = await clusters.wait_for(
        created["id"], lambda c: c["workers"][0]["memory_peak"] >= truth - tolerance(truth), 10
    )
    row = cluster["workers"][0]
    assert row["ran_tasks"] is True
    assert abs(row["memory_peak"] - truth) <= tolerance(truth), (row["memory_peak"], truth)
    assert cluster["memory_restarts"] == 0
    assert cluster["memory_peak_method"] == "hwm"

    found = verdict(cluster)
    assert found["level"] == "fine", found
    assert found["limit"] == LIMIT and found["restarts"] == 0
    assert found["text"].startswith(f"Largest worker peak {row['memory_peak'] / MiB:.2f} MiB = ")
    assert " % of its 400.00 MiB limit; 0 restarts — fine; " in found["text"]

    # Reset peaks: the worker's peak starts again from what it holds now.
    cluster = await reset_peaks(clusters, created["id"])
    assert cluster["workers"][0]["memory_peak"] < truth - 50 * MiB
    assert cluster["workers"][0]["ran_tasks"] is False and verdict(cluster) is None


async def test_a_task_over_the_limit_counts_a_memory_restart_and_fails(clusters, tmp_path):
    created = await clusters.create(n_workers=1, threads_per_worker=1, memory_limit=LIMIT)
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    first_worker = cluster["workers"][0]["address"]
    marker = str(tmp_path / "allocated")
    async with clusters.client(cluster, asynchronous=True) as client:
        result = await client.submit(exceed_limit_once, marker, int(1.5 * LIMIT), pure=False)
    assert result == "retried"  # the nanny killed the first try; the retry ran on its successor

    cluster = await clusters.wait_for(
        created["id"], lambda c: c["memory_restarts"] >= 1 and c["n_workers"] == 1, 30
    )
    assert cluster["memory_restarts"] == 1
    assert cluster["workers"][0]["address"] != first_worker
    found = verdict(cluster)
    assert found["level"] == "failed", found
    assert "; 1 restart — failed; at least " in found["text"]
    assert found["right_limit"] >= LIMIT / 0.6

    cluster = await reset_peaks(clusters, created["id"])
    assert cluster["memory_restarts"] == 0
    assert verdict(cluster) is None  # afresh: no restart, and nothing has run since
