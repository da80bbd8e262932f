"""A cluster factory chosen by server configuration: what it takes, and what it refuses."""

from __future__ import annotations

import asyncio
import json

import pytest
from distributed import Client

from clustercraft.server.factory import factory_fields
from clustercraft.tests.factories import site_cluster

FACTORY = "clustercraft.tests.factories.site_cluster"


@pytest.fixture
def jp_server_config(jp_server_config):
    return {
        "ServerApp": {"jpserver_extensions": {"clustercraft": True}},
        "ClusterManager": {
            "cluster_factory": FACTORY,
            "cluster_factory_kwargs": {"resources": {"site-slot": 1}},
        },
    }


def resources(address: str) -> list[dict]:
    with Client(address) as client:
        return [w["resources"] for w in client.scheduler_info(n_workers=-1)["workers"].values()]


def test_factory_fields_follow_the_signature() -> None:
    from distributed import LocalCluster

    assert factory_fields(LocalCluster) == ("threads_per_worker", "memory_limit", "processes")
    assert factory_fields(site_cluster) == ("threads_per_worker",)
    assert factory_fields(len) == ()


async def test_configured_factory_gets_its_kwargs_and_the_fields_it_takes(clusters):
    created = await clusters.create(n_workers=2, threads_per_worker=3)
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    assert cluster["n_workers"] == 2
    assert [row["nthreads"] for row in cluster["workers"]] == [3, 3]  # from the request
    assert not any(row["nanny"] for row in cluster["workers"])  # threads: the factory's call
    found = await asyncio.to_thread(resources, cluster["scheduler_address"])
    assert found == [{"site-slot": 1}, {"site-slot": 1}]  # from the server configuration
    response = await clusters.request("DELETE", created["id"])
    assert response.code == 204


@pytest.mark.parametrize("field", ["memory_limit", "processes"])
async def test_fields_the_factory_does_not_take_are_400(clusters, field):
    value = {"memory_limit": "1GiB", "processes": True}[field]
    response = await clusters.request("POST", body={"n_workers": 1, field: value})
    assert response.code == 400
    error = json.loads(response.body)
    assert error["field"] == field
    assert FACTORY in error["message"]
    assert clusters.manager.records == {}  # nothing started
