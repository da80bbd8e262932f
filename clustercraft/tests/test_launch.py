"""A recommendation sized for one of the server's cluster profiles: ``%%peakmem --profile`` in a
real kernel that reads the profiles from its runtime dir, and ``profile_partitions(profile=)``.
The report carries the exact POST body the widget's Launch sends and the code Copy as code gives."""

from __future__ import annotations

import json
import os

import pytest
from jupyter_client.manager import start_new_kernel

from clustercraft.profiles import profile_code, profile_request
from clustercraft.runtime import PROFILES_FILE, RUNTIME_ENV
from clustercraft.server.spec import validate_cluster_spec
from clustercraft.tests.kernels import shutdown_kernel
from clustercraft.tests.test_profiles import PROFILES, SHOWN

MiB = 2**20
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LISTED = [SHOWN["local"], SHOWN["slurm"], SHOWN["gateway"]]  # as GET /profiles lists them


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    directory = tmp_path_factory.mktemp("runtime")
    (directory / PROFILES_FILE).write_text(json.dumps(LISTED))
    return directory


@pytest.fixture(scope="module")
def kernel(runtime):
    manager, client = start_new_kernel(
        kernel_name="python3", env={**os.environ, RUNTIME_ENV: str(runtime)}
    )
    reply = client.execute_interactive("%load_ext clustercraft", timeout=60)
    assert reply["content"]["status"] == "ok"
    yield client
    shutdown_kernel(manager, client)


def execute(kernel, code: str) -> tuple[dict, list[dict]]:
    messages: list[dict] = []
    reply = kernel.execute_interactive(code, timeout=120, output_hook=messages.append)
    return reply["content"], messages


def value(kernel, expression: str):
    """``expression`` evaluated in the kernel, through JSON."""
    reply, messages = execute(kernel, f"import json as _j; print(_j.dumps({expression}))")
    assert reply["status"] == "ok", reply
    return json.loads("".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream"))


CELL = (
    "%%peakmem --profile {profile} --workers 10 --worker-base 300MiB\nblock = bytearray(64 * 2**20)"
)


def widget_states(messages: list[dict]) -> list[dict]:
    return [
        m["content"]["data"]["state"]
        for m in messages
        if m["msg_type"] in ("comm_open", "comm_msg") and "state" in m["content"]["data"]
    ]


def test_peakmem_on_a_slurm_profile_gives_the_jobs_request_and_code(kernel) -> None:
    reply, messages = execute(kernel, CELL.format(profile="slurm"))
    assert reply["status"] == "ok", reply
    recommendation = value(kernel, "_peakmem.recommendation.to_dict()")
    assert recommendation["profile"] == "slurm" and recommendation["n_workers"] == 10
    request = recommendation["request"]
    # 4 processes per job (the profile's default), each with the worker's limit; whole jobs.
    limit = recommendation["memory_limit"]
    assert request == {
        "profile": "slurm",
        "n_workers": 12,
        "cores": 4,
        "memory": 4 * limit,
        "processes": 4,
    }
    assert request == profile_request(SHOWN["slurm"], recommendation)
    validate_cluster_spec(request, PROFILES)  # the server takes it as it is
    assert recommendation["code"] == profile_code(SHOWN["slurm"], recommendation)
    assert "SLURMCluster(cores=4" in recommendation["code"]
    assert (
        "On profile 'slurm' (dask_jobqueue.SLURMCluster): 12 workers in 3 jobs of 4 "
        in recommendation["rationale"]
    )
    # The widget gets the same body in its report, and the code for "Copy as code".
    states = widget_states(messages)
    final = [s["report"] for s in states if s.get("report", {}).get("recommendation")][-1]
    assert final["recommendation"]["request"] == request
    assert [s["code"] for s in states if s.get("code")][-1] == recommendation["code"]


def test_peakmem_on_a_gateway_profile_gives_worker_memory_and_cores(kernel) -> None:
    reply, _ = execute(kernel, CELL.format(profile="gateway"))
    assert reply["status"] == "ok", reply
    recommendation = value(kernel, "_peakmem.recommendation.to_dict()")
    request = recommendation["request"]
    assert set(request) == {"profile", "n_workers", "worker_cores", "worker_memory"}
    assert request["worker_memory"] == pytest.approx(recommendation["memory_limit"] / 2**30, 0.01)
    validate_cluster_spec(request, PROFILES)
    assert "GatewayCluster(worker_cores=1, worker_memory=" in recommendation["code"]
    assert "client = cluster.get_client()" in recommendation["code"]


def test_without_a_profile_the_request_is_the_local_shape(kernel) -> None:
    reply, _ = execute(kernel, "%%peakmem --worker-base 300MiB\nblock = bytearray(2**20)")
    assert reply["status"] == "ok", reply
    recommendation = value(kernel, "_peakmem.recommendation.to_dict()")
    assert recommendation["request"] == {
        key: recommendation[key] for key in ("n_workers", "threads_per_worker", "memory_limit")
    }
    assert "LocalCluster(n_workers=" in recommendation["code"]


def test_an_unknown_profile_is_a_usage_error_before_the_cell_runs(kernel) -> None:
    reply, messages = execute(kernel, "%%peakmem --profile nope\nran = True")
    assert reply["status"] == "error" and reply["ename"] == "UsageError", reply
    assert "'nope'" in reply["evalue"]
    assert "'local', 'slurm', 'gateway'" in reply["evalue"]
    assert not any(m["msg_type"] == "display_data" for m in messages)  # no report shown
    assert value(kernel, "'ran' in globals()") is False


def test_a_worker_too_big_for_the_profile_cannot_be_launched_there(kernel) -> None:
    # 64 GiB per job at most: one worker of 70 GiB does not fit.
    reply, _ = execute(
        kernel, "%%peakmem --profile slurm --worker-base 40GiB --memory-available 1TiB\nx = 1"
    )
    assert reply["status"] == "ok", reply
    recommendation = value(kernel, "_peakmem.recommendation.to_dict()")
    assert recommendation["request"] is None and recommendation["code"] == ""
    warnings = value(kernel, "_peakmem.warnings")
    assert any(w.startswith("Cannot launch it on profile 'slurm'") for w in warnings), warnings


def test_profile_partitions_on_a_profile(runtime, monkeypatch) -> None:
    import dask.dataframe as dd
    import pandas as pd

    import clustercraft

    monkeypatch.setenv(RUNTIME_ENV, str(runtime))
    frame = dd.from_pandas(pd.DataFrame({"x": range(1000)}), npartitions=2)
    with pytest.raises(ValueError, match="no cluster profile 'nope'; the server has 'local'"):
        clustercraft.profile_partitions(frame, len, n=1, profile="nope", progress=False)
    report = clustercraft.profile_partitions(
        frame, len, n=1, workers=4, profile="gateway", progress=False
    )
    recommendation = report.recommendation
    assert recommendation.profile == "gateway"
    assert recommendation.request == profile_request(SHOWN["gateway"], recommendation)
    assert recommendation.code == profile_code(SHOWN["gateway"], recommendation)
    assert report.to_dict()["recommendation"]["request"]["profile"] == "gateway"


def test_a_recommendation_the_server_would_refuse_cannot_be_launched(tmp_path, monkeypatch):
    """Beyond the default profile's limits: no request (Launch is disabled) and the reason."""
    import json

    from clustercraft.runtime import PROFILES_FILE, RUNTIME_ENV
    from clustercraft.sizing.launch import place
    from clustercraft.sizing.recommend import Recommendation

    profile = {
        "name": "local",
        "kind": "local",
        "fields": [{"name": "n_workers", "type": "integer", "default": 2, "maximum": 8}],
    }
    (tmp_path / PROFILES_FILE).write_text(json.dumps([profile]))
    monkeypatch.setenv(RUNTIME_ENV, str(tmp_path))
    fits = Recommendation(8, 1, 2**30, "", 2.0, 2**29)
    place(fits, None)
    assert fits.request == {"n_workers": 8, "threads_per_worker": 1, "memory_limit": 2**30}
    too_many = Recommendation(9, 1, 2**30, "", 2.0, 2**29)
    place(too_many, None)
    assert too_many.request is None
    assert "n_workers is 9, and at most 8 may be asked for" in too_many.warnings[-1]
