"""A performance report recorded from the panel, for what runs between Start and Stop."""

from __future__ import annotations

import asyncio
import json


def run_some_tasks(clusters, cluster: dict) -> int:
    with clusters.client(cluster) as client:
        return sum(client.gather(client.map(lambda x: x + 1, range(20))))


async def test_start_then_stop_returns_the_report_of_what_ran_between(clusters):
    created = await clusters.create(n_workers=1, processes=False)
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    path = (created["id"], "performance-report")

    response = await clusters.request("POST", *path, body={"action": "start"})
    assert response.code == 200
    started = json.loads(response.body)["cluster"]["recording"]
    assert started and started <= (await clusters.get(created["id"]))["recording"] + 1

    assert await asyncio.to_thread(run_some_tasks, clusters, cluster) == 210

    response = await clusters.request("POST", *path, body={"action": "stop"})
    assert response.code == 200
    reply = json.loads(response.body)
    assert reply["cluster"]["recording"] is None
    assert "Dask Performance Report" in reply["html"]
    assert "number of tasks: 20" in reply["html"]  # only what ran while recording

    again = await clusters.request("POST", *path, body={"action": "stop"})
    assert again.code == 409
    assert "no performance report" in json.loads(again.body)["message"]
    bad = await clusters.request("POST", *path, body={"action": "pause"})
    assert bad.code == 400
    assert json.loads(bad.body)["field"] == "action"
    await clusters.request("DELETE", created["id"])
