"""Panel-launched schedulers refuse strangers: TLS with credentials of their own."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest
from distributed import Client

import clustercraft
from clustercraft.runtime import RUNTIME_ENV, credential_paths


@pytest.fixture
def runtime_env(clusters, monkeypatch):
    """Kernels find the server's runtime dir through the environment, as Jupyter's do."""
    monkeypatch.setenv(RUNTIME_ENV, clusters.manager.runtime_dir)
    return clusters.manager.runtime_dir


def plain_client_fails(address: str) -> None:
    with pytest.raises(OSError, match="Connection"):  # the TLS listener drops it
        Client(address.replace("tls://", "tcp://"), timeout="3s")


def stranger_with_own_certificate_fails(address: str) -> None:
    from distributed.security import Security

    with pytest.raises(OSError, match="TLS certificate does not match"):
        Client(address, security=Security.temporary(), timeout="3s")


def connect_and_compute(name: str) -> tuple[int, str]:
    with clustercraft.connect(name, timeout="10s") as client:
        return client.submit(sum, [1, 2, 3]).result(), client.scheduler.address


async def test_a_plain_client_is_refused_and_connect_gets_in(clusters, runtime_env):
    created = await clusters.create(name="guarded", n_workers=1)
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    assert cluster["scheduler_address"].startswith("tls://127.0.0.1:")
    assert all(row["address"].startswith("tls://") for row in cluster["workers"])

    await asyncio.to_thread(plain_client_fails, cluster["scheduler_address"])
    await asyncio.to_thread(stranger_with_own_certificate_fails, cluster["scheduler_address"])
    result, address = await asyncio.to_thread(connect_and_compute, "guarded")
    assert result == 6
    assert address == cluster["scheduler_address"]
    by_id, _ = await asyncio.to_thread(connect_and_compute, created["id"])
    assert by_id == 6

    paths = credential_paths(runtime_env, created["id"])
    for path in paths:
        info = os.stat(path)
        assert info.st_uid == os.getuid()
        assert stat.S_IMODE(info.st_mode) == 0o600

    await clusters.request("DELETE", created["id"])
    assert not any(os.path.exists(path) for path in paths)  # removed with the cluster


async def test_connect_names_the_clusters_there_are(clusters, runtime_env):
    created = await clusters.create(name="only-one", n_workers=1, processes=False)
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    with pytest.raises(LookupError, match="only-one"):
        clustercraft.connect("no-such-cluster")
    await clusters.request("DELETE", created["id"])


async def test_tls_can_be_switched_off_by_the_server(clusters, runtime_env):
    clusters.manager.tls = False
    created = await clusters.create(n_workers=1, processes=False)
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    assert cluster["scheduler_address"].startswith("tcp://")
    assert not any(os.path.exists(p) for p in credential_paths(runtime_env, created["id"]))
    await clusters.request("DELETE", created["id"])
