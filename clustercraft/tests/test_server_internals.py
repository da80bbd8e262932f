"""The private API of distributed and dask-jobqueue that clustercraft uses, one adapter each in
server/internals.py: each is exercised here on the installed versions, so an upgrade that
changes one fails here, by name, instead of leaving clusters quietly wrong."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from distributed import LocalCluster
from distributed.core import Status
from distributed.deploy.spec import ProcessInterface

from clustercraft.server import internals


class SubmitFails(ProcessInterface):
    """A worker whose start fails, as a job-queue job whose sbatch cannot reach SLURM."""

    async def start(self) -> None:
        raise OSError("sbatch: Unable to contact slurm controller")


def local_cluster() -> LocalCluster:
    return LocalCluster(
        n_workers=0,
        processes=False,
        asynchronous=True,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address="127.0.0.1:0",
    )


async def test_correct_state_starts_what_scale_asked_for():
    async with local_cluster() as cluster:
        cluster.scale(2)
        await internals.correct_state(cluster)
        assert internals.planned_workers(cluster) == 2
        assert internals.all_started(cluster)
        assert len(cluster.scheduler.workers) == 2


async def test_stop_adaptive_stops_it():
    async with local_cluster() as cluster:
        adaptive = cluster.adapt(minimum=1, maximum=2)
        assert adaptive.periodic_callback is not None
        internals.stop_adaptive(cluster)
        assert adaptive.periodic_callback is None  # stopped
        internals.stop_adaptive(cluster)  # nothing to stop: fine


async def test_failed_workers_are_dropped_so_that_they_start_again():
    async with local_cluster() as cluster:
        cluster.worker_spec["bad"] = {"cls": SubmitFails, "options": {}}
        with pytest.raises(OSError, match="Unable to contact"):
            await internals.correct_state(cluster)
        assert "bad" in cluster.workers  # distributed keeps it: it would never start again
        assert not internals.all_started(cluster)
        assert internals.drop_failed_workers(cluster) == ["bad"]
        assert "bad" not in cluster.workers and "bad" in cluster.worker_spec
        with pytest.raises(OSError, match="Unable to contact"):
            await internals.correct_state(cluster)  # tried again
        internals.drop_failed_workers(cluster)
        del cluster.worker_spec["bad"]


async def test_a_replaced_worker_gets_a_name_never_used():
    async with local_cluster() as cluster:
        cluster.scale(2)
        await internals.correct_state(cluster)
        first, second = sorted(cluster.worker_spec)
        new = internals.replace_worker(cluster, first)
        assert new not in (first, second) and sorted(cluster.worker_spec) == sorted([second, new])
        assert first not in cluster.workers
        # SpecCluster's own next name does not reuse it either.
        (after,) = cluster.new_worker_spec()
        assert after not in (first, second, new)
        await internals.correct_state(cluster)
        assert internals.all_started(cluster) and len(cluster.workers) == 2


async def test_jobqueue_jobs_and_their_worker_names():
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(cores=2, memory="2GiB", processes=2, asynchronous=True)
    try:
        assert internals.cancel_command(cluster) == "scancel"
        (name,) = cluster.new_worker_spec()
        cluster.worker_spec.update(cluster.new_worker_spec())
        assert internals.worker_names(cluster, name) == [f"{name}-0", f"{name}-1"]
        assert internals.planned_workers(cluster) == 2
        assert cluster.job_cls.__init__ and hasattr(cluster._dummy_job, "job_id")
        cluster.workers[name] = SimpleNamespace(job_id="42", status=Status.running)
        assert internals.job_ids(cluster) == {"42": name}
    finally:
        cluster.workers.clear()


def test_stop_forkserver_stops_this_processs_forkserver():
    import multiprocessing.forkserver

    import psutil

    multiprocessing.forkserver.ensure_running()
    pid = multiprocessing.forkserver._forkserver._forkserver_pid
    assert psutil.pid_exists(pid)
    internals.stop_forkserver()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    internals.stop_forkserver()  # none running: fine


async def test_live_cluster_objects_finds_the_clusters_of_this_process():
    async with local_cluster() as cluster:
        assert any(found is cluster for found in internals.live_cluster_objects())
        assert internals.adaptive(cluster) is None
        cluster.adapt(minimum=0, maximum=2)
        assert internals.adaptive(cluster).maximum == 2
        internals.stop_adaptive(cluster)


def test_loaded_module_never_imports_and_skips_half_imported_modules(monkeypatch):
    import sys

    assert internals.loaded_module("distributed") is sys.modules["distributed"]
    assert internals.loaded_module("clustercraft_no_such_module") is None
    module = SimpleNamespace(__spec__=SimpleNamespace(_initializing=True))
    monkeypatch.setitem(sys.modules, "clustercraft_half_imported", module)
    assert internals.loaded_module("clustercraft_half_imported") is None
