"""Workers that cannot start: the cluster says why, and still shuts down cleanly."""

from __future__ import annotations

import pytest

BAD_DIRECTORY = "/proc/clustercraft-cannot-create-this"


@pytest.fixture
def jp_server_config(jp_server_config):
    # A site configuration error: every worker fails while creating its local directory.
    return {
        "ServerApp": {"jpserver_extensions": {"clustercraft": True}},
        "ClusterManager": {"profiles": {"local": {"kwargs": {"local_directory": BAD_DIRECTORY}}}},
    }


async def test_workers_that_cannot_start_are_explained(clusters):
    created = await clusters.create(n_workers=2)
    assert created["error"] is None
    cluster = await clusters.wait_for(created["id"], lambda c: c["error"] is not None)
    assert cluster["status"] == "running"  # the scheduler is up; the error says what is not
    assert cluster["n_workers"] == 0 and cluster["requested_workers"] == 2
    assert cluster["error"].startswith("Workers failed to start: FileNotFoundError")
    assert BAD_DIRECTORY in cluster["error"]
    assert "Traceback" not in cluster["error"]

    processes = clusters.host_tree(created["id"])
    response = await clusters.request("DELETE", created["id"])
    assert response.code == 204
    assert clusters.alive(processes) == []
