"""Cluster profiles from server configuration: what GET /profiles shows, what a POST may set
for each, and what it may not (400 naming the field, nothing started)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import psutil
import pytest

from clustercraft.server.profiles import Field, build_profiles, local_profile
from clustercraft.server.spec import SpecError, validate_cluster_spec

SITE_FACTORY = "clustercraft.tests.factories.site_cluster"
SECRET = "gateway-password-never-shown"
PROFILES = {
    "site": {
        "title": "Site cluster",
        "factory": SITE_FACTORY,
        "kwargs": {"resources": {"site-slot": 1}},
        "fields": [
            {"name": "threads_per_worker", "type": "integer", "default": 1, "maximum": 4},
            {"name": "n_workers", "default": 1, "maximum": 3},
        ],
    },
    "slurm": {
        "title": "SLURM, partition debug",
        "factory": "dask_jobqueue.SLURMCluster",
        "kwargs": {"queue": "debug", "cores": 1, "memory": "1GiB", "walltime": "00:10:00"},
        "fields": [
            "cores",
            {"name": "memory", "maximum": "16 GiB"},
            {"name": "processes", "maximum": 4},
            {"name": "queue", "type": "choice", "choices": ["debug", "long"]},
            "walltime",
        ],
    },
    "gateway": {
        "title": "Dask Gateway",
        "factory": "dask_gateway.GatewayCluster",
        "kwargs": {
            "address": "http://127.0.0.1:1",
            "auth": {"type": "basic", "username": "u", "password": SECRET},
        },
        "fields": [
            {"name": "worker_cores", "default": 1, "maximum": 2},
            {"name": "worker_memory", "default": 1.0, "minimum": 0.5, "maximum": 2.0},
            {"name": "spot", "type": "boolean", "default": False, "description": "Spot nodes"},
        ],
    },
}


@pytest.fixture
def jp_server_config(jp_server_config):
    return {
        "ServerApp": {"jpserver_extensions": {"clustercraft": True}},
        "ClusterManager": {"profiles": PROFILES, "max_workers": 8},
    }


async def get_profiles(clusters) -> list[dict]:
    response = await clusters.fetch("clustercraft", "profiles", method="GET")
    assert response.code == 200
    return json.loads(response.body)


def resources(clusters, cluster: dict) -> list[dict]:
    with clusters.client(cluster) as client:
        return [w["resources"] for w in client.scheduler_info(n_workers=-1)["workers"].values()]


async def test_profiles_route_lists_each_profile_and_its_fields_but_no_kwargs(clusters):
    profiles = await get_profiles(clusters)
    assert [p["name"] for p in profiles] == ["local", "site", "slurm", "gateway"]
    by_name = {p["name"]: p for p in profiles}
    local = by_name["local"]
    assert (local["title"], local["factory"], local["kind"]) == (
        "This machine",
        "distributed.LocalCluster",
        "local",
    )
    assert [f["name"] for f in local["fields"]] == [
        "n_workers",
        "threads_per_worker",
        "memory_limit",
        "processes",
    ]
    n_workers = local["fields"][0]
    assert n_workers == {
        "name": "n_workers",
        "type": "integer",
        "default": 2,
        "minimum": 1,
        "maximum": 8,
        "description": "Workers",
    }
    assert local["fields"][2]["type"] == "memory" and local["fields"][2]["default"] is None

    slurm = {f["name"]: f for f in by_name["slurm"]["fields"]}
    assert by_name["slurm"]["kind"] == "jobqueue"
    assert list(slurm) == ["n_workers", "cores", "memory", "processes", "queue", "walltime"]
    assert slurm["cores"]["default"] == 1  # from the profile's kwargs
    assert slurm["memory"] == {
        "name": "memory",
        "type": "memory",
        "default": 2**30,
        "minimum": 256 * 2**20,
        "maximum": 16 * 2**30,
        "description": "Memory per job, shared by its worker processes",
    }
    assert slurm["queue"]["choices"] == ["debug", "long"]
    assert slurm["walltime"]["default"] == "00:10:00"

    site = {f["name"]: f for f in by_name["site"]["fields"]}
    assert site["n_workers"]["maximum"] == 3 and site["n_workers"]["default"] == 1
    gateway = by_name["gateway"]
    assert gateway["kind"] == "gateway"
    assert [f["name"] for f in gateway["fields"]] == [
        "n_workers",
        "worker_cores",
        "worker_memory",
        "spot",
    ]
    body = json.dumps(profiles)
    for secret in (SECRET, "127.0.0.1:1", "kwargs", "resources"):
        assert secret not in body


async def test_site_profile_gets_its_kwargs_and_the_requests_fields(clusters):
    created = await clusters.create(profile="site", n_workers=2, threads_per_worker=3)
    assert created["profile"] == "site"
    cluster = await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    assert cluster["n_workers"] == 2 and cluster["jobs"] is None
    assert [row["nthreads"] for row in cluster["workers"]] == [3, 3]  # from the request
    assert not any(row["nanny"] for row in cluster["workers"])  # threads: the factory's call
    assert all(row["job_id"] is None for row in cluster["workers"])
    found = await asyncio.to_thread(resources, clusters, cluster)
    assert found == [{"site-slot": 1}, {"site-slot": 1}]  # from the server configuration
    assert (await clusters.request("DELETE", created["id"])).code == 204


async def test_a_body_without_profile_is_the_default_local_one(clusters):
    created = await clusters.create(n_workers=1, processes=False)
    assert created["profile"] == "local"
    assert clusters.manager.records[created["id"]].spec.options == {
        "threads_per_worker": 1,
        "memory_limit": None,
        "processes": False,
    }
    await clusters.wait_for(created["id"], lambda c: c["status"] == "running")
    assert (await clusters.request("DELETE", created["id"])).code == 204


BAD_BODIES = [
    pytest.param({"profile": "moon"}, "profile", "unknown profile 'moon'", id="unknown-profile"),
    pytest.param({"profile": 3}, "profile", "unknown profile", id="profile-not-a-name"),
    pytest.param(
        {"profile": "site", "memory_limit": "1GiB"},
        "memory_limit",
        "not a field of profile 'site'",
        id="field-of-another-profile",
    ),
    pytest.param(
        {"profile": "slurm", "threads_per_worker": 2},
        "threads_per_worker",
        "not a field of profile 'slurm'",
        id="local-field-on-slurm",
    ),
    pytest.param(
        {"profile": "slurm", "factory": "os.system"}, "factory", "not a field", id="no-class"
    ),
    pytest.param(
        {"profile": "slurm", "job_script_prologue": ["rm -rf /"]},
        "job_script_prologue",
        "not a field",
        id="unlisted-kwarg",
    ),
    pytest.param({"profile": "site", "n_workers": 4}, "n_workers", "at most 3", id="profile-max"),
    pytest.param({"profile": "slurm", "cores": 0}, "cores", "at least 1", id="integer-min"),
    pytest.param({"profile": "slurm", "cores": "2"}, "cores", "integer", id="integer-type"),
    pytest.param({"profile": "slurm", "processes": 5}, "processes", "at most 4", id="integer-max"),
    pytest.param(
        {"profile": "slurm", "memory": "17 GiB"}, "memory", "at most 16.00 GiB", id="memory-max"
    ),
    pytest.param({"profile": "slurm", "memory": "lots"}, "memory", "cannot read", id="memory-text"),
    pytest.param({"profile": "slurm", "queue": "gpu"}, "queue", "one of debug, long", id="choice"),
    pytest.param(
        {"profile": "slurm", "walltime": "1:00\n#SBATCH --exclusive"},
        "walltime",
        "control characters",
        id="string-newline",
    ),
    pytest.param({"profile": "slurm", "walltime": 60}, "walltime", "string", id="string-type"),
    pytest.param(
        {"profile": "gateway", "worker_memory": 3}, "worker_memory", "at most 2.0", id="number-max"
    ),
    pytest.param(
        {"profile": "gateway", "worker_memory": "1"}, "worker_memory", "number", id="number-type"
    ),
    pytest.param({"profile": "gateway", "spot": "yes"}, "spot", "true or false", id="boolean"),
    pytest.param(
        {"profile": "gateway", "adapt": {"minimum": 0, "maximum": 9}},
        "adapt.maximum",
        "at most 8",
        id="adapt-server-max",
    ),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_BODIES)
async def test_bad_profile_requests_are_400_naming_the_field_and_start_nothing(
    clusters, body, field, words
):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    response = await clusters.request("POST", body=body)
    assert response.code == 400, response.body
    reply = json.loads(response.body)
    assert reply["field"] == field
    assert words in reply["message"]
    assert clusters.manager.records == {}
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before


def test_field_values_are_checked_against_their_profile() -> None:
    profiles = build_profiles(PROFILES, local_profile())
    spec = validate_cluster_spec(
        {"profile": "slurm", "n_workers": 3, "memory": "4 GiB", "queue": "long"}, profiles
    )
    assert spec.profile == "slurm" and spec.n_workers == 3
    assert spec.options == {
        "cores": 1,
        "memory": 4 * 2**30,
        "processes": 1,
        "queue": "long",
        "walltime": "00:10:00",
    }
    gateway = validate_cluster_spec({"profile": "gateway", "worker_memory": 1.5}, profiles)
    assert gateway.options == {"worker_cores": 1, "worker_memory": 1.5, "spot": False}
    assert type(spec).from_json(json.loads(json.dumps(spec.to_json()))) == spec
    assert validate_cluster_spec({}, profiles, default_profile="slurm").profile == "slurm"
    with pytest.raises(SpecError) as info:  # the default's fields, not local's
        validate_cluster_spec({"processes": True}, profiles, default_profile="slurm")
    assert info.value.field is None or info.value.field == "processes"


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"x": {"factory": "NoDots"}}, "class path"),
        ({"x": {"factory": "a.B", "fields": ["cores"]}}, "give its type"),
        ({"x": {"factory": "a.B", "fields": [{"name": "c", "type": "colour"}]}}, "type must be"),
        ({"x": {"factory": "a.B", "fields": [{"name": "q", "type": "choice"}]}}, "needs choices"),
        ({"x": {"factory": "a.B", "fields": ["adapt"]}}, "give its type"),
        ({"x": {"factory": "a.B", "kwargs": {"f": object()}}}, "not JSON serializable"),
        ({"x": {"factory": "a.B", "colour": "red"}}, "unknown keys"),
        ({"x": {"factory": "dask_jobqueue.SLURMCluster", "fields": ["cores", "cores"]}}, "twice"),
        (
            {"x": {"factory": "a.B", "fields": [{"name": "m", "type": "memory", "maximum": "x"}]}},
            "",
        ),
    ],
)
def test_bad_profile_config_says_what_is_wrong(config, words) -> None:
    with pytest.raises(ValueError) as info:
        build_profiles(config, local_profile())
    assert "profile 'x'" in str(info.value) and words in str(info.value)


def test_a_profile_named_local_replaces_parts_of_the_built_in_one() -> None:
    profiles = build_profiles(
        {"local": {"title": "Login node", "kwargs": {"local_directory": "/scratch"}}},
        local_profile(n_workers=3),
    )
    local = profiles["local"]
    assert (local.title, local.factory, dict(local.kwargs)) == (
        "Login node",
        "distributed.LocalCluster",
        {"local_directory": "/scratch"},
    )
    assert local.fields[0] == Field("n_workers", "integer", 3, 1, None, None, "Workers")
    narrowed = build_profiles(
        {"local": {"fields": [{"name": "n_workers", "maximum": 99}, "threads_per_worker"]}},
        local_profile(max_workers=8),
    )["local"]
    assert [f.name for f in narrowed.fields] == ["n_workers", "threads_per_worker"]
    assert narrowed.fields[0].maximum == 8  # a profile narrows max_workers, never widens it


def test_the_server_imports_no_factory_module() -> None:
    """Listing profiles and checking requests reads configuration only: dask_jobqueue and
    dask_gateway are imported by the hosts that run such clusters, never by the server."""
    code = """
import json, sys
from clustercraft.server.manager import ClusterManager
manager = ClusterManager(profiles=json.load(sys.stdin))
manager.list_profiles()
manager.validate_spec({"profile": "slurm", "cores": 2})
manager.validate_spec({"profile": "gateway", "worker_memory": 1.5})
print([m for m in ("dask_jobqueue", "dask_gateway") if m in sys.modules])
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(PROFILES),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


async def test_kernels_find_the_profiles_in_the_runtime_dir(clusters):
    from clustercraft.runtime import read_profiles

    listed = await get_profiles(clusters)
    assert read_profiles(clusters.manager.runtime_dir) == listed
    assert all("kwargs" not in profile for profile in listed)  # secrets stay in the server
