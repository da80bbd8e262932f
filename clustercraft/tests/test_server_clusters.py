"""Cluster lifecycle through the real REST routes, with real clusters in host processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import psutil
import pyarrow as pa

from clustercraft.schema import ARROW_STREAM_MIME, WORKER_ROW_FIELDS, worker_rows

# Fields that do not move between two reads of the same worker.
STABLE = ("name", "address", "nthreads", "memory_limit", "status", "nanny", "local_directory")


def scheduler_info(clusters, cluster: dict) -> dict:
    with clusters.client(cluster) as client:
        return client.scheduler_info(n_workers=-1)


def stable(rows: list[dict]) -> list[tuple]:
    return [tuple(row[key] for key in STABLE) for row in rows]


async def test_create_reports_workers_and_rows_agree_with_the_scheduler(clusters):
    created = await clusters.create(n_workers=2, threads_per_worker=1, memory_limit="1 GiB")
    assert created["status"] == "starting"
    assert created["name"] == "cluster-1"
    assert created["requested_workers"] == 2

    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    assert cluster["n_workers"] == 2
    assert cluster["scheduler_address"].startswith("tls://127.0.0.1:")  # its own credentials
    assert cluster["total_threads"] == 2
    assert cluster["total_memory"] == 2 * 2**30
    assert cluster["processes"] is True
    assert all(row["memory"] > 0 for row in cluster["workers"])

    expected = worker_rows((await asyncio.to_thread(scheduler_info, clusters, cluster))["workers"])
    assert stable(cluster["workers"]) == stable(expected)

    listed = json.loads((await clusters.request("GET")).body)
    assert [c["id"] for c in listed] == [created["id"]]

    as_json = json.loads((await clusters.request("GET", created["id"], "workers")).body)
    assert stable(as_json) == stable(expected)
    response = await clusters.request(
        "GET", created["id"], "workers", headers={"Accept": ARROW_STREAM_MIME}
    )
    assert response.headers["Content-Type"] == ARROW_STREAM_MIME
    table = pa.ipc.open_stream(response.body).read_all()
    assert table.column_names == list(WORKER_ROW_FIELDS)
    assert stable(table.to_pylist()) == stable(expected)


async def test_scale_up_down_then_adapt_and_stop_adapting(clusters):
    # An explicit limit: "auto" gives one worker the whole machine, and 3 of those overcommit.
    created = await clusters.create(n_workers=1, processes=False, memory_limit="1 GiB")
    cluster_id = created["id"]
    await clusters.wait_for(cluster_id, lambda c: c["status"] == "running")

    response = await clusters.request("PATCH", cluster_id, body={"n_workers": 3})
    assert response.code == 200
    assert json.loads(response.body)["requested_workers"] == 3
    await clusters.wait_for(cluster_id, lambda c: c["n_workers"] == 3)

    await clusters.request("PATCH", cluster_id, body={"n_workers": 1})
    await clusters.wait_for(cluster_id, lambda c: c["n_workers"] == 1)

    response = await clusters.request(
        "PATCH", cluster_id, body={"adapt": {"minimum": 2, "maximum": 3}}
    )
    assert json.loads(response.body)["adapt"] == {"minimum": 2, "maximum": 3}
    await clusters.wait_for(cluster_id, lambda c: c["n_workers"] == 2)

    response = await clusters.request("PATCH", cluster_id, body={"adapt": None})
    assert json.loads(response.body)["adapt"] is None
    await clusters.request("PATCH", cluster_id, body={"n_workers": 1})
    cluster = await clusters.wait_for(cluster_id, lambda c: c["n_workers"] == 1)
    assert cluster["requested_workers"] == 1


async def test_delete_leaves_no_host_or_worker_process(clusters):
    created = await clusters.create(n_workers=2)
    await clusters.wait_for(created["id"], lambda c: c["n_workers"] == 2)
    processes = clusters.host_tree(created["id"])
    assert len(processes) >= 3  # host + one process per worker

    response = await clusters.request("DELETE", created["id"])
    assert response.code == 204
    assert clusters.alive(processes) == []
    assert (await clusters.request("GET", created["id"])).code == 404
    assert not any(
        name.startswith(created["id"]) and not name.endswith(".log")
        for name in os.listdir(clusters.manager.runtime_dir)
    )


async def test_killed_host_is_marked_lost_and_its_workers_exit(clusters):
    created = await clusters.create(n_workers=1)
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    host, *workers = clusters.host_tree(created["id"])
    host.kill()
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "lost", timeout=5)
    assert cluster["id"] == created["id"]
    # Workers watch their parent and leave with it; reap stragglers so nothing leaks.
    gone, still = psutil.wait_procs(workers, timeout=10)
    for process in still:
        process.kill()
    assert still == []
    assert (await clusters.request("PATCH", created["id"], body={"n_workers": 2})).code == 409
    assert (await clusters.request("DELETE", created["id"])).code == 204
    assert json.loads((await clusters.request("GET")).body) == []


async def test_names_unknown_ids_and_errors(clusters):
    created = await clusters.create(name="survey", n_workers=1, processes=False)
    response = await clusters.request("POST", body={"name": "survey", "processes": False})
    assert response.code == 409
    assert "survey" in json.loads(response.body)["message"]
    second = await clusters.create(n_workers=1, processes=False)
    assert second["name"] == "cluster-1"

    for method, body in (("GET", None), ("PATCH", {"n_workers": 1}), ("DELETE", None)):
        response = await clusters.request(method, "f00d", body=body)
        assert response.code == 404, method
        assert json.loads(response.body)["field"] is None
    response = await clusters.request("PATCH", created["id"], body={"n_workers": -1})
    assert response.code == 400
    assert json.loads(response.body)["field"] == "n_workers"
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")


async def test_clean_server_shutdown_closes_every_cluster(clusters, jp_serverapp):
    created = await clusters.create(n_workers=1)
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    processes = clusters.host_tree(created["id"])
    await jp_serverapp.cleanup_extensions()
    assert clusters.alive(processes) == []
    assert clusters.manager.records == {}


async def test_killed_worker_is_replaced_by_its_nanny(clusters):
    created = await clusters.create(n_workers=2)
    # "running": the nannies are done starting, so they will restart what dies.
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    async with clusters.client(cluster, asynchronous=True) as client:
        pids = await client.run(os.getpid)
    victim_address, victim_pid = sorted(pids.items())[0]
    os.kill(victim_pid, signal.SIGKILL)
    cluster = await clusters.wait_for(
        created["id"], lambda c: victim_address not in {w["address"] for w in c["workers"]}, 15
    )
    cluster = await clusters.wait_for(created["id"], lambda c: c["n_workers"] == 2, 30)
    assert victim_address not in {w["address"] for w in cluster["workers"]}
