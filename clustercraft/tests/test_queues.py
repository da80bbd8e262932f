"""The real job-queue systems the cluster profiles stand on: a one-node SLURM driven by
dask-jobqueue and a local Dask Gateway. Smoke tests: workers join, work runs, and closing
leaves no job and no process behind."""

from __future__ import annotations

import gc
import os
import time

import psutil
import pytest
from distributed import Client

from clustercraft.tests.queues import gone

WORKERS_TIMEOUT = 180  # a 2-core machine shared with other test runs: job start + worker import


def total(client: Client) -> int:
    futures = client.map(lambda x: x * x, range(20))
    return client.submit(sum, futures).result(timeout=60)


def worker_processes(client: Client) -> list[psutil.Process]:
    """Every worker process and its nanny (the parent, when it is one)."""
    found = []
    for pid in client.run(os.getpid).values():
        process = psutil.Process(pid)
        found.append(process)
        parent = process.parent()
        if parent is not None and "distributed" in " ".join(parent.cmdline()):
            found.append(parent)
    return found


def wait_gone(processes: list[psutil.Process], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not gone(processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    return gone(processes)


def test_slurm_cluster_runs_two_jobs_and_close_cancels_them(slurm):
    from dask_jobqueue import SLURMCluster

    with SLURMCluster(**slurm.cluster_kwargs(cores=1, memory="1GiB", processes=1)) as cluster:
        script = cluster.job_script()
        assert f"#SBATCH -p {slurm.queue}" in script
        assert f"#SBATCH -J {slurm.job_name}" in script
        cluster.scale(2)
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=WORKERS_TIMEOUT)
            assert total(client) == sum(x * x for x in range(20))
            jobs = slurm.jobs()
            assert sorted(jobs) == sorted(job.job_id for job in cluster.workers.values())
            assert set(jobs.values()) == {"RUNNING"}
            processes = worker_processes(client)
            assert len(processes) >= 2
    assert slurm.wait_no_jobs() == {}, "closing the SLURMCluster left jobs in squeue"
    assert wait_gone(processes), f"worker processes left: {[p.pid for p in processes]}"


# dask-gateway 2026.3's Gateway.__del__ closes an already closed Gateway again, which asks
# distributed's stopped LoopRunner for its loop: RuntimeError, ignored. Collected within the test.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function Gateway.__del__:pytest.PytestUnraisableExceptionWarning"
)
def test_gateway_cluster_runs_two_workers_and_shutdown_stops_them(gateway):
    with gateway.connect() as client_gateway:
        with client_gateway.new_cluster() as cluster:
            cluster.scale(2)
            with cluster.get_client() as client:
                client.wait_for_workers(2, timeout=WORKERS_TIMEOUT)
                assert total(client) == sum(x * x for x in range(20))
                assert len(client.scheduler_info(n_workers=-1)["workers"]) == 2
                workers = worker_processes(client)
            # The server's children besides its proxy: this cluster's scheduler and workers.
            started = [p for p in gateway.processes()[1:] if "dask-gateway-proxy" not in p.name()]
            assert {p.pid for p in workers} <= {p.pid for p in started}
            assert any("scheduler" in p.cmdline() for p in started)
            assert [c.name for c in client_gateway.list_clusters()] == [cluster.name]
            cluster.shutdown()
        assert client_gateway.list_clusters() == []
    assert wait_gone(started), f"processes left: {[p.cmdline() for p in started if not gone([p])]}"
    del client_gateway, cluster, client
    gc.collect()
