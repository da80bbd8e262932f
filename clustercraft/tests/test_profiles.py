"""A sizing recommendation put on a profile (clustercraft/profiles.py): the POST body that
launches it there, and the SLURMCluster / GatewayCluster / LocalCluster code for it."""

from __future__ import annotations

import ast

import pytest

from clustercraft.profiles import profile_code, profile_request
from clustercraft.server.profiles import build_profiles, local_profile
from clustercraft.server.spec import validate_cluster_spec
from clustercraft.sizing.recommend import Recommendation

GiB = 2**30
CONFIG = {
    "slurm": {
        "factory": "dask_jobqueue.SLURMCluster",
        "kwargs": {"queue": "debug", "account": "astro"},
        "fields": [
            {"name": "cores", "default": 4, "maximum": 32},
            {"name": "memory", "default": "16 GiB", "maximum": "64 GiB"},
            {"name": "processes", "default": 4},
            "queue",
            {"name": "walltime", "default": "02:00:00"},
        ],
    },
    "gateway": {
        "factory": "dask_gateway.GatewayCluster",
        "kwargs": {"address": "https://gateway.example.org", "auth": "jupyterhub"},
        "fields": [
            {"name": "worker_cores", "default": 1, "maximum": 8},
            {"name": "worker_memory", "default": 2.0, "maximum": 32.0},
        ],
    },
    "gateway-bytes": {
        "factory": "dask_gateway.GatewayCluster",
        "fields": ["worker_cores", {"name": "worker_memory", "type": "memory"}],
    },
}
PROFILES = build_profiles(CONFIG, local_profile(max_workers=40))
SHOWN = {name: profile.to_json() for name, profile in PROFILES.items()}  # GET /profiles


def recommendation(n_workers=10, threads=1, limit=6 * GiB) -> Recommendation:
    return Recommendation(n_workers, threads, limit, "why", 2.0, limit // 2)


def test_slurm_memory_per_job_is_processes_times_the_worker_limit() -> None:
    body = profile_request(SHOWN["slurm"], recommendation())
    # 4 processes x 6 GiB = 24 GiB and 4 cores per job; 10 workers are 3 whole jobs.
    assert body == {
        "profile": "slurm",
        "n_workers": 12,
        "cores": 4,
        "memory": 24 * GiB,
        "processes": 4,
    }
    spec = validate_cluster_spec(body, PROFILES)  # the server takes it as it is
    assert spec.options["memory"] == 24 * GiB and spec.options["queue"] == "debug"


def test_slurm_jobs_get_fewer_processes_when_a_job_would_exceed_the_maximum() -> None:
    body = profile_request(SHOWN["slurm"], recommendation(limit=20 * GiB, threads=2))
    assert (body["processes"], body["memory"], body["cores"]) == (3, 60 * GiB, 6)
    few = profile_request(SHOWN["slurm"], recommendation(n_workers=2))
    assert (few["processes"], few["n_workers"], few["memory"]) == (2, 2, 12 * GiB)
    with pytest.raises(ValueError, match="memory=.* is more than profile 'slurm' allows"):
        profile_request(SHOWN["slurm"], recommendation(limit=65 * GiB))


def test_gateway_gets_worker_memory_and_cores() -> None:
    body = profile_request(SHOWN["gateway"], recommendation(threads=2, limit=int(6.5 * GiB)))
    assert body == {"profile": "gateway", "n_workers": 10, "worker_cores": 2, "worker_memory": 6.5}
    validate_cluster_spec(body, PROFILES)
    in_bytes = profile_request(SHOWN["gateway-bytes"], recommendation())
    assert in_bytes["worker_memory"] == 6 * GiB


def test_local_gets_todays_fields_and_workers_are_cut_to_the_maximum() -> None:
    body = profile_request(SHOWN["local"], recommendation(n_workers=100))
    assert body == {
        "profile": "local",
        "n_workers": 40,
        "threads_per_worker": 1,
        "memory_limit": 6 * GiB,
        "processes": True,
    }


def test_copy_as_code_for_slurm_makes_the_same_jobs() -> None:
    code = profile_code(SHOWN["slurm"], recommendation())
    assert code == (
        "from dask.distributed import Client\n"
        "from dask_jobqueue import SLURMCluster\n"
        "\n"
        "# The site's account, interface and the like come from its jobqueue configuration.\n"
        "cluster = SLURMCluster(cores=4, memory='24.00 GiB', processes=4, queue='debug', "
        "walltime='02:00:00')\n"
        "cluster.scale(12)  # 3 job(s)\n"
        "client = Client(cluster)\n"
    )
    from dask_jobqueue import SLURMCluster

    call = next(n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call))
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    script = SLURMCluster.job_cls("tcp://scheduler:8786", name="w", **kwargs).job_script()
    for directive in ("-p debug", "--cpus-per-task=4", "--mem=24G", "-t 02:00:00", "--nworkers 4"):
        assert directive in script


def test_copy_as_code_for_gateway_and_local() -> None:
    assert profile_code(SHOWN["gateway"], recommendation()) == (
        "from dask_gateway import GatewayCluster\n"
        "\n"
        "# The gateway's address and auth come from the site's Dask configuration.\n"
        "cluster = GatewayCluster(worker_cores=1, worker_memory=6.0)\n"
        "cluster.scale(10)\n"
        "client = cluster.get_client()\n"
    )
    local = profile_code(SHOWN["local"], recommendation(n_workers=2, limit=768 * 2**20))
    assert (
        "cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit='768.00 MiB'"
        in local
    )
    compile(local, "<local>", "exec")
