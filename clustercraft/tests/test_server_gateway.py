"""A Dask Gateway profile through the real REST routes, against a real local gateway server:
its cluster options as the form's fields, launch, scale, shut down, and its errors."""

from __future__ import annotations

import asyncio
import gc
import json

import pytest

from clustercraft.tests.queues import GATEWAY_MAX_WORKERS, gone

WORKERS_TIMEOUT = 180
GiB = 2**30

pytestmark = pytest.mark.filterwarnings(
    # dask-gateway 2026.3: Gateway.__del__ closes a closed Gateway again (see test_queues.py).
    "ignore:Exception ignored in. <function Gateway.__del__:pytest.PytestUnraisableExceptionWarning"
)


def gateway_profile(gateway, password: str) -> dict:
    return {
        "title": "Dask Gateway",
        "factory": "dask_gateway.GatewayCluster",
        "kwargs": {
            "address": gateway.address,
            "proxy_address": gateway.proxy_address,
            "auth": {"type": "basic", "username": gateway.username, "password": password},
        },
        # The gateway's own cluster options, as its admin configured them.
        "fields": [
            {"name": "worker_cores", "default": 1, "maximum": 2},
            {"name": "worker_memory", "default": 1.0, "minimum": 0.5, "maximum": 2.0},
        ],
    }


@pytest.fixture
def jp_server_config(jp_server_config, gateway):
    return {
        "ServerApp": {"jpserver_extensions": {"clustercraft": True}},
        "ClusterManager": {
            "profiles": {
                "gateway": gateway_profile(gateway, gateway.password),
                "gateway-bad-password": gateway_profile(gateway, "not-the-password"),
            }
        },
    }


def gateway_clusters(gateway) -> list[str]:
    with gateway.connect() as client:
        return [cluster.name for cluster in client.list_clusters()]


def gateway_options(gateway) -> dict:
    with gateway.connect() as client:
        return {
            name: (field.value, field.min, field.max)
            for name, field in client.cluster_options()._fields.items()
        }


async def test_fields_are_the_gateways_cluster_options_and_no_secret_is_shown(clusters, gateway):
    response = await clusters.fetch("clustercraft", "profiles", method="GET")
    profiles = {p["name"]: p for p in json.loads(response.body)}
    fields = {f["name"]: f for f in profiles["gateway"]["fields"][1:]}
    offered = await asyncio.to_thread(gateway_options, gateway)
    assert {
        name: (f["default"], f["minimum"], f["maximum"]) for name, f in fields.items()
    } == offered
    assert gateway.password not in response.body.decode()
    assert profiles["gateway"]["kind"] == "gateway"


async def test_launch_scale_and_shut_down_a_gateway_cluster(clusters, gateway):
    created = await clusters.create(profile="gateway", n_workers=2, worker_memory=1.5)
    assert created["profile"] == "gateway"
    cluster = await clusters.wait_for(
        created["id"], lambda c: c["status"] == "running" and c["n_workers"] == 2, WORKERS_TIMEOUT
    )
    assert cluster["scheduler_address"].startswith(gateway.proxy_address)
    assert [row["memory_limit"] for row in cluster["workers"]] == [int(1.5 * GiB)] * 2
    jobs = cluster["jobs"]
    assert (jobs["system"], jobs["running"], jobs["pending"]) == ("gateway", 2, 0)
    assert await asyncio.to_thread(gateway_clusters, gateway) == [jobs["cluster_name"]]
    # This cluster's scheduler and workers: the gateway server's children but its proxy.
    started = [p for p in gateway.processes()[1:] if "dask-gateway-proxy" not in p.name()]

    response = await clusters.request("PATCH", created["id"], body={"n_workers": 3})
    assert json.loads(response.body)["requested_workers"] == 3
    await clusters.wait_for(created["id"], lambda c: c["n_workers"] == 3, WORKERS_TIMEOUT)
    await clusters.request("PATCH", created["id"], body={"n_workers": 1})
    cluster = await clusters.wait_for(created["id"], lambda c: c["n_workers"] == 1, 60)
    assert cluster["error"] is None and cluster["requested_workers"] == 1

    response = await clusters.request("DELETE", created["id"])
    assert response.code == 204
    assert await asyncio.to_thread(gateway_clusters, gateway) == []
    deadline = asyncio.get_running_loop().time() + 60
    while not gone(started):
        assert asyncio.get_running_loop().time() < deadline, "gateway processes left"
        await asyncio.sleep(0.2)
    gc.collect()


async def test_a_scale_the_gateway_cuts_is_an_error_until_the_workers_run(clusters, gateway):
    created = await clusters.create(profile="gateway", n_workers=1)
    await clusters.wait_for(created["id"], lambda c: c["n_workers"] == 1, WORKERS_TIMEOUT)
    asked = GATEWAY_MAX_WORKERS + 1
    response = await clusters.request("PATCH", created["id"], body={"n_workers": asked})
    assert response.code == 200
    cluster = await clusters.wait_for(
        created["id"], lambda c: c["n_workers"] == GATEWAY_MAX_WORKERS, WORKERS_TIMEOUT
    )
    assert f"exceed resource limit of {GATEWAY_MAX_WORKERS} workers" in cluster["error"]
    assert cluster["requested_workers"] == asked and cluster["jobs"]["pending"] == 1
    await clusters.request("PATCH", created["id"], body={"n_workers": 2})
    cluster = await clusters.wait_for(
        created["id"], lambda c: c["n_workers"] == 2 and c["error"] is None, 60
    )
    assert (await clusters.request("DELETE", created["id"])).code == 204
    assert await asyncio.to_thread(gateway_clusters, gateway) == []


async def test_a_gateway_that_refuses_says_why_and_starts_nothing(clusters, gateway):
    created = await clusters.create(profile="gateway-bad-password", n_workers=1)
    cluster = created
    deadline = asyncio.get_running_loop().time() + 60
    while cluster["status"] != "lost":
        assert asyncio.get_running_loop().time() < deadline, f"not refused: {cluster}"
        await asyncio.sleep(0.1)
        cluster = await clusters.get(created["id"])
    assert cluster["error"].startswith("Cluster failed to start:")
    assert "401" in cluster["error"] and gateway.password not in cluster["error"]
    assert await asyncio.to_thread(gateway_clusters, gateway) == []
    response = await clusters.request("PATCH", created["id"], body={"n_workers": 2})
    assert response.code == 409 and "failed to start" in json.loads(response.body)["message"]
    assert (await clusters.request("DELETE", created["id"])).code == 204
    assert json.loads((await clusters.request("GET")).body) == []
