"""A SLURM profile through the real REST routes, against the real one-node SLURM: jobs and
their states on the cluster object, pending jobs, jobs that end underneath, a controller
that goes away, and shutting down. Each test's jobs carry its own job name."""

from __future__ import annotations

import asyncio
import json

import psutil
import pytest

WORKERS_TIMEOUT = 180  # a 2-core machine shared with other test runs: job start + worker import
# 2 jobs of this fit the node's memory (~23.5 GiB), a third waits: "pending in queue debug".
BIG_JOB = "10 GiB"


@pytest.fixture
def jp_server_config(jp_server_config, slurm):
    return {
        "ServerApp": {"jpserver_extensions": {"clustercraft": True}},
        "ClusterManager": {
            "profiles": {
                "slurm": {
                    "title": "SLURM (debug)",
                    "factory": "dask_jobqueue.SLURMCluster",
                    "kwargs": slurm.cluster_kwargs(),
                    "fields": ["cores", {"name": "memory", "maximum": "12 GiB"}, "processes"],
                }
            },
            "default_profile": "slurm",
        },
    }


async def jobs_of(slurm) -> dict[str, str]:
    return await asyncio.to_thread(slurm.jobs)


async def launch(clusters, **body) -> dict:
    created = await clusters.create(**body)
    assert created["profile"] == "slurm"
    return created


async def delete(clusters, slurm, cluster_id: str) -> None:
    response = await clusters.request("DELETE", cluster_id)
    assert response.code == 204, response.body
    assert await asyncio.to_thread(slurm.wait_no_jobs) == {}, "jobs left after DELETE"


def running(n: int):
    return lambda c: c["n_workers"] == n and c["jobs"] and c["jobs"]["running"] == n


async def test_two_workers_run_as_two_jobs_and_delete_cancels_every_job(clusters, slurm):
    created = await launch(clusters, n_workers=2)
    cluster = await clusters.wait_for(created["id"], running(2), WORKERS_TIMEOUT)
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    queued = await jobs_of(slurm)
    assert sorted(queued.values()) == ["RUNNING", "RUNNING"]
    rows = cluster["workers"]
    assert sorted(row["job_id"] for row in rows) == sorted(queued)
    assert {row["job_state"] for row in rows} == {"RUNNING"}
    jobs = cluster["jobs"]
    assert (jobs["system"], jobs["queue"], jobs["running"], jobs["pending"]) == (
        "slurm",
        slurm.queue,
        2,
        0,
    )
    assert sorted(job["job_id"] for job in jobs["jobs"]) == sorted(queued)
    assert jobs["ended"] == [] and cluster["error"] is None
    assert cluster["requested_workers"] == 2 and cluster["processes"] is True
    await delete(clusters, slurm, created["id"])


async def test_a_job_waiting_in_the_queue_is_pending_not_a_silent_shortfall(clusters, slurm):
    created = await launch(clusters, n_workers=3, memory=BIG_JOB)
    cluster = await clusters.wait_for(
        created["id"],
        lambda c: running(2)(c) and c["jobs"]["pending"] == 1,
        WORKERS_TIMEOUT,
    )
    assert cluster["requested_workers"] == 3
    (waiting,) = [job for job in cluster["jobs"]["jobs"] if job["state"] == "PENDING"]
    assert waiting["reason"] == "Resources"
    assert (await jobs_of(slurm))[waiting["job_id"]] == "PENDING"

    # Scaling down drops the job that never started.
    response = await clusters.request("PATCH", created["id"], body={"n_workers": 2})
    assert response.code == 200
    cluster = await clusters.wait_for(
        created["id"], lambda c: c["jobs"]["pending"] == 0 and c["requested_workers"] == 2
    )
    assert cluster["n_workers"] == 2 and cluster["error"] is None
    await wait_until_gone(slurm, waiting["job_id"])
    await delete(clusters, slurm, created["id"])


async def wait_until_gone(slurm, job_id: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while job_id in await jobs_of(slurm):
        assert asyncio.get_running_loop().time() < deadline, f"job {job_id} still queued"
        await asyncio.sleep(0.2)


async def test_jobs_that_end_underneath_are_replaced_and_say_why(clusters, slurm):
    created = await launch(clusters, n_workers=2)
    cluster = await clusters.wait_for(created["id"], running(2), WORKERS_TIMEOUT)
    cancelled, timed_out = sorted(row["job_id"] for row in cluster["workers"])
    await asyncio.to_thread(slurm.run, "scancel", cancelled)
    # SLURM's shortest walltime is a minute: this job reaches it about a minute after it began.
    await asyncio.to_thread(slurm.run, "scontrol", "update", f"jobid={timed_out}", "timelimit=1")

    cluster = await clusters.wait_for(
        created["id"],
        lambda c: [e["job_id"] for e in c["jobs"]["ended"]] == [cancelled] and running(2)(c),
        WORKERS_TIMEOUT,
    )
    assert cancelled not in {row["job_id"] for row in cluster["workers"]}
    (ended,) = cluster["jobs"]["ended"]
    assert ended["state"] == "CANCELLED"
    assert "cancelled outside the cluster" in ended["reason"]
    assert cluster["requested_workers"] == 2 and cluster["error"] is None

    cluster = await clusters.wait_for(
        created["id"],
        lambda c: len(c["jobs"]["ended"]) == 2 and running(2)(c),
        WORKERS_TIMEOUT,
    )
    timeout = cluster["jobs"]["ended"][1]
    assert (timeout["job_id"], timeout["state"]) == (timed_out, "TIMEOUT")
    assert timeout["reason"] == "reached its walltime (TimeLimit)"
    live = {row["job_id"] for row in cluster["workers"]}
    assert not live & {cancelled, timed_out} and len(live) == 2
    queued = await jobs_of(slurm)
    assert sorted(queued[job_id] for job_id in live) == ["RUNNING", "RUNNING"]
    await delete(clusters, slurm, created["id"])


async def test_queue_errors_stay_until_the_workers_really_run(clusters, slurm):
    created = await launch(clusters, n_workers=1)
    await clusters.wait_for(created["id"], running(1), WORKERS_TIMEOUT)
    with slurm.controller_stopped():
        response = await clusters.request("PATCH", created["id"], body={"n_workers": 2})
        assert response.code == 200
        cluster = await clusters.wait_for(
            created["id"], lambda c: "Jobs could not be submitted" in (c["error"] or ""), 60
        )
        assert "Unable to contact slurm controller" in cluster["error"]
        # Asking again submits nothing while the controller is down: the error stays.
        response = await clusters.request("PATCH", created["id"], body={"n_workers": 2})
        assert response.code == 200
        await asyncio.sleep(2)
        cluster = await clusters.get(created["id"])
        assert "Jobs could not be submitted" in cluster["error"]
        assert cluster["n_workers"] == 1 and cluster["requested_workers"] == 2
    # The controller is back: the failed job is submitted again, then the error goes.
    cluster = await clusters.wait_for(
        created["id"], lambda c: running(2)(c) and c["error"] is None, WORKERS_TIMEOUT
    )
    assert len(await jobs_of(slurm)) == 2
    await delete(clusters, slurm, created["id"])


async def test_a_cancel_that_fails_is_an_error_and_delete_says_so(clusters, slurm):
    created = await launch(clusters, n_workers=2)
    cluster = await clusters.wait_for(created["id"], running(2), WORKERS_TIMEOUT)
    job_ids = sorted(row["job_id"] for row in cluster["workers"])
    with slurm.controller_stopped():
        response = await clusters.request("DELETE", created["id"])
        assert response.code == 409
        reply = json.loads(response.body)
        assert "could not cancel job(s)" in reply["message"]
        assert all(job_id in reply["message"] for job_id in job_ids)
        cluster = await clusters.get(created["id"])  # still there, saying why
        assert cluster["status"] == "running"
        assert cluster["error"].startswith("Shut down failed: could not cancel job(s)")

        # Scaling down cannot cancel the job either: an error, not a silent leftover.
        response = await clusters.request("PATCH", created["id"], body={"n_workers": 1})
        assert response.code == 200
        await clusters.wait_for(
            created["id"], lambda c: "Could not cancel job(s)" in (c["error"] or ""), 90
        )
    cluster = await clusters.wait_for(
        created["id"],
        lambda c: c["error"] is None and c["n_workers"] == 1 and len(c["jobs"]["jobs"]) == 1,
        WORKERS_TIMEOUT,
    )
    (kept,) = cluster["jobs"]["jobs"]
    (let_go,) = set(job_ids) - {kept["job_id"]}
    await wait_until_gone(slurm, let_go)  # it may show as COMPLETING a moment
    await delete(clusters, slurm, created["id"])


async def test_bad_requests_submit_no_job(clusters, slurm):
    for body, field in (
        ({"memory": "13 GiB"}, "memory"),
        ({"cores": 0}, "cores"),
        ({"threads_per_worker": 2}, "threads_per_worker"),
        ({"profile": "pbs"}, "profile"),
    ):
        response = await clusters.request("POST", body={"n_workers": 1, **body})
        assert response.code == 400
        assert json.loads(response.body)["field"] == field
    assert clusters.manager.records == {}
    assert await jobs_of(slurm) == {}


async def test_with_a_panel_open_the_warm_standby_runs_the_slurm_cluster(
    clusters, slurm, jp_ws_fetch
):
    manager = clusters.manager
    ws = await jp_ws_fetch("clustercraft", "clusters", "events")
    json.loads(await ws.read_message())
    standby_id, standby = manager.standby.host
    assert "dask_jobqueue" in standby.args[standby.args.index("--preload") + 1]
    created = await launch(clusters, n_workers=1)
    assert created["id"] == standby_id
    await clusters.wait_for(created["id"], running(1), WORKERS_TIMEOUT)
    # Its forkserver, warmed for a local cluster, is stopped: the workers are jobs.
    children = psutil.Process(standby.pid).children()
    assert not [p for p in children if "forkserver" in " ".join(p.cmdline())]
    await delete(clusters, slurm, created["id"])
    ws.close()


async def test_a_job_cancelled_by_scaling_down_is_not_replaced(slurm):
    """Scaling down drops a worker from ``worker_spec``, cancels its job, and only then drops
    the job from ``cluster.workers``. A look at the queue in between sees a held job
    CANCELLED: that is the scale-down's own cancel, not a job lost underneath."""
    from clustercraft.server.deploy import make_deployment
    from clustercraft.server.spec import ClusterSpec

    launch = {"factory": "dask_jobqueue.SLURMCluster", "kwargs": slurm.cluster_kwargs()}
    deployment = make_deployment(launch, ClusterSpec("scaling", 0, profile="slurm"), lambda: None)
    await deployment.start()
    deployment._watch.cancel()  # this test looks at the queue itself, at the chosen moment
    try:
        await deployment.scale(2)
        await deployment.workers_started()
        names = set(deployment.cluster.workers)
        assert len(names) == 2
        deadline = asyncio.get_running_loop().time() + WORKERS_TIMEOUT
        while sorted((await jobs_of(slurm)).values()) != ["RUNNING", "RUNNING"]:
            assert asyncio.get_running_loop().time() < deadline, await jobs_of(slurm)
            await asyncio.sleep(0.5)
        await deployment.poll()

        name = max(names)
        job_id = deployment.cluster.workers[name].job_id
        del deployment.cluster.worker_spec[name]  # what scale(1) does first
        await asyncio.to_thread(slurm.run, "scancel", job_id)  # what closing its job does
        while job_id in await jobs_of(slurm):  # ended (listed with -t all only)
            await asyncio.sleep(0.2)
        await deployment.poll()

        assert list(deployment.ended) == []  # not "cancelled outside the cluster"
        assert set(deployment.cluster.workers) == names  # nothing submitted in its place

        deployment.cluster.workers.pop(name)  # the scale-down ends: the job is let go
        await deployment.poll()
        assert job_id not in deployment.submitted and list(deployment.ended) == []
        assert deployment.jobs()["running"] == 1
    finally:
        await deployment.close()
    assert await asyncio.to_thread(slurm.wait_no_jobs) == {}
