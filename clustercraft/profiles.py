"""A cluster profile seen from outside the server: its kind, and a sizing recommendation put on it
as the POST body that launches it and as the Python code that makes the same cluster.

``profile`` is one entry of ``GET /clustercraft/profiles``: ``{name, title, factory, kind?,
fields: [{name, type, default, minimum?, maximum?, ...}]}``; ``recommendation`` anything with
``n_workers``, ``threads_per_worker`` and ``memory_limit`` (bytes), as attributes or keys (a
``%%peakmem`` or ``profile_partitions`` recommendation). Only the standard library at module
level: the server, the cluster host and the kernel all import it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

LOCAL, JOBQUEUE, GATEWAY, CUSTOM = "local", "jobqueue", "gateway", "custom"
LOCAL_CLUSTER = "distributed.LocalCluster"
LOCAL_FACTORIES = (
    LOCAL_CLUSTER,
    "dask.distributed.LocalCluster",
    "distributed.deploy.local.LocalCluster",
)
GiB = 2**30


def profile_kind(factory: str) -> str:
    """``local``, ``jobqueue`` (dask-jobqueue), ``gateway`` (dask-gateway) or ``custom``."""
    if factory in LOCAL_FACTORIES:
        return LOCAL
    if factory.startswith("dask_jobqueue."):
        return JOBQUEUE
    if factory.startswith("dask_gateway."):
        return GATEWAY
    return CUSTOM


def profile_request(profile: Mapping[str, Any], recommendation: Any) -> dict[str, Any]:
    """The POST /clustercraft/clusters body that launches ``recommendation`` on ``profile``.

    Job queues: memory per job = processes x the worker limit and cores = processes x threads,
    with processes per job the profile's default, fewer when a job would exceed the profile's
    memory or cores maximum; n_workers rounded up to whole jobs. Gateway: worker_memory (GiB for
    a number field) and worker_cores. Workers beyond the profile's maximum are cut to it;
    ValueError when one worker does not fit the profile at all.
    """
    workers, threads, limit = _shape(recommendation)
    fields = {f["name"]: f for f in profile.get("fields", [])}
    kind = profile.get("kind") or profile_kind(profile.get("factory", ""))
    values: dict[str, Any] = {}
    if kind == JOBQUEUE:
        processes = _processes_per_job(profile, fields, workers, threads, limit)
        values = {"cores": processes * threads, "memory": processes * limit, "processes": processes}
        workers = math.ceil(workers / processes) * processes
    elif kind == GATEWAY:
        memory = fields.get("worker_memory", {})
        gib = math.ceil(limit / GiB * 100) / 100
        values = {
            "worker_cores": threads,
            "worker_memory": limit if memory.get("type") == "memory" else gib,
        }
    else:
        values = {"threads_per_worker": threads, "memory_limit": limit, "processes": True}
    body = {"profile": profile["name"], "n_workers": _at_most(workers, fields.get("n_workers"))}
    for name, value in values.items():
        if name in fields:
            _check_fits(profile, fields[name], value)
            body[name] = value
    return body


def profile_code(profile: Mapping[str, Any], recommendation: Any) -> str:
    """Python that makes the cluster of :func:`profile_request` directly, with a client: the
    profile's field defaults (queue, walltime, ...) with the recommendation's sizes over them.
    What the server's admin configured beyond the fields (a gateway's address and auth, a
    queue's account) is not known here; the site's Dask configuration supplies it."""
    from dask.utils import format_bytes

    body = profile_request(profile, recommendation)
    fields = {f["name"]: f for f in profile.get("fields", [])}
    factory = profile.get("factory") or LOCAL_CLUSTER
    kind = profile.get("kind") or profile_kind(factory)
    module, _, cls = factory.rpartition(".")
    values = {name: f.get("default") for name, f in fields.items() if name != "n_workers"}
    values |= {k: v for k, v in body.items() if k not in ("profile", "n_workers")}

    def literal(name: str, value: Any) -> str:
        return repr(format_bytes(value) if fields[name]["type"] == "memory" else value)

    args = [f"{name}={literal(name, value)}" for name, value in values.items() if value is not None]
    n_workers = body["n_workers"]
    if kind == LOCAL:
        make = [f"cluster = {cls}({', '.join([f'n_workers={n_workers}', *args])})"]
        imports = [f"from dask.distributed import Client, {cls}"]
    else:
        imports = [f"from {module} import {cls}"]
        if kind != GATEWAY:
            imports.insert(0, "from dask.distributed import Client")
        processes = body.get("processes", 1)
        jobs = f"  # {n_workers // processes} job(s)" if kind == JOBQUEUE else ""
        make = [
            f"# {_SITE_NOTE[kind]}" if kind in _SITE_NOTE else None,
            f"cluster = {cls}({', '.join(args)})",
            f"cluster.scale({n_workers}){jobs}",
        ]
    client = "cluster.get_client()" if kind == GATEWAY else "Client(cluster)"
    lines = [*imports, "", *[line for line in make if line], f"client = {client}"]
    return "\n".join(lines) + "\n"


_SITE_NOTE = {
    JOBQUEUE: "The site's account, interface and the like come from its jobqueue configuration.",
    GATEWAY: "The gateway's address and auth come from the site's Dask configuration.",
}


def _shape(recommendation: Any) -> tuple[int, int, int]:
    def get(name: str) -> Any:
        if isinstance(recommendation, Mapping):
            return recommendation[name]
        return getattr(recommendation, name)

    return int(get("n_workers")), int(get("threads_per_worker")), int(get("memory_limit"))


def _processes_per_job(profile, fields, workers: int, threads: int, limit: int) -> int:
    processes = int((fields.get("processes") or {}).get("default") or 1)
    processes = max(1, min(processes, workers))
    memory_max = (fields.get("memory") or {}).get("maximum")
    cores_max = (fields.get("cores") or {}).get("maximum")
    while processes > 1 and (
        (memory_max is not None and processes * limit > memory_max)
        or (cores_max is not None and processes * threads > cores_max)
    ):
        processes -= 1
    return processes


def _at_most(value: int, field: Mapping[str, Any] | None) -> int:
    maximum = (field or {}).get("maximum")
    return value if maximum is None else min(value, int(maximum))


def _check_fits(profile: Mapping[str, Any], field: Mapping[str, Any], value: Any) -> None:
    maximum = field.get("maximum")
    if maximum is not None and isinstance(value, int | float) and value > maximum:
        raise ValueError(
            f"the recommended {field['name']}={value!r} is more than profile "
            f"{profile['name']!r} allows ({maximum!r}): one worker does not fit there"
        )
