"""Every use of distributed's, dask-jobqueue's and the standard library's private or undocumented
API, one function each.

test_server_internals.py runs each against the installed versions, so an upgrade that changes
one fails there, loudly, instead of leaving a cluster quietly wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from types import ModuleType
from typing import Any

# distributed is imported where it is used: a kernel's discovery thread imports this module
# while the notebook may be importing distributed (see loaded_module).


def correct_state(cluster: Any) -> Awaitable[None]:
    """Start and stop workers until ``cluster.workers`` matches ``worker_spec`` (SpecCluster's
    ``_correct_state``); raises what the first failed worker (or job submission) raised."""
    return cluster._correct_state()


def stop_adaptive(cluster: Any) -> None:
    """Stop adaptive scaling (SpecCluster keeps its Adaptive in ``_adaptive``)."""
    adaptive = getattr(cluster, "_adaptive", None)
    if adaptive is not None:
        adaptive.stop()
        cluster._adaptive = None


def adaptive(cluster: Any) -> Any:
    """The cluster's Adaptive while it adapts, else None (``Cluster._adaptive``)."""
    return getattr(cluster, "_adaptive", None)


def planned_workers(cluster: Any) -> int:
    """How many Dask workers SpecCluster wants (``plan``: every process of every job)."""
    return len(cluster.plan)


def worker_names(cluster: Any, name: Any) -> list[str]:
    """The Dask worker names ``worker_spec[name]`` starts: one, or one per process of a job
    with several (SpecCluster's ``group`` suffixes)."""
    spec = cluster.worker_spec.get(name) or {}
    return [f"{name}{suffix}" for suffix in spec["group"]] if "group" in spec else [str(name)]


def drop_failed_workers(cluster: Any) -> list[Any]:
    """Forget workers whose start failed, so the next ``correct_state`` starts them again.

    SpecCluster keeps a worker whose start raised in ``cluster.workers`` (status not
    running): it is never started again, and the cluster waits for it forever.
    """
    from distributed.core import Status

    failed = [name for name, w in cluster.workers.items() if w.status != Status.running]
    for name in failed:
        # SpecCluster's close asserts that every worker it created is failed or closed.
        cluster.workers.pop(name).status = Status.failed
    return failed


def replace_worker(cluster: Any, name: Any) -> Any:
    """Swap the worker ``name`` (a job that ended underneath) for a new one of the same spec;
    the next ``correct_state`` starts it. Returns the new name.

    The new name is one SpecCluster never gave: it closes a worker whose name left the
    scheduler ``lost-worker-timeout`` ago, and that would be the new job if it reused the name.
    """
    spec = cluster.worker_spec.pop(name)
    cluster.workers.pop(name, None)  # gone already: not closed
    number = cluster._i
    while (new := cluster._new_worker_name(number)) in cluster.worker_spec:
        number += 1
    cluster._i = number + 1  # SpecCluster's next new_worker_spec starts here
    cluster.worker_spec[new] = spec
    return new


def all_started(cluster: Any) -> bool:
    """Every wanted worker has finished starting (its nanny too), not just registered."""
    from distributed.core import Status

    workers = getattr(cluster, "workers", {})  # SpecCluster: name -> Nanny, Worker or Job
    # SpecCluster adds a worker here only once its start is done; a worker process registers
    # with the scheduler before that, and is not yet restartable.
    if not set(getattr(cluster, "worker_spec", {})) <= set(workers):
        return False
    return all(getattr(w, "status", Status.running) == Status.running for w in workers.values())


def job_ids(cluster: Any) -> dict[str, Any]:
    """dask-jobqueue: ``{job id: worker spec name}`` of the jobs it submitted and holds."""
    return {w.job_id: name for name, w in cluster.workers.items() if getattr(w, "job_id", None)}


def wanted(cluster: Any, name: Any) -> bool:
    """SpecCluster: whether the worker spec ``name`` is still asked for. Scaling down drops it
    from ``worker_spec`` first, then closes its worker (a job: cancelled) while
    ``cluster.workers`` still holds it."""
    return name in cluster.worker_spec


def cancel_command(cluster: Any) -> str:
    """dask-jobqueue: the queue's cancel command (``scancel`` for SLURM)."""
    return cluster.job_cls.cancel_command


def stop_forkserver() -> None:
    """Stop this process's multiprocessing forkserver, if it runs (a standby host warmed one
    for a local cluster, and got another kind)."""
    import multiprocessing.forkserver

    multiprocessing.forkserver._forkserver._stop()


def loaded_module(name: str) -> ModuleType | None:
    """The module ``name`` once fully imported, else None (never imports it). Another thread
    may be executing it right now (``__spec__._initializing``): importing from it then would
    find it half-initialized and break that import."""
    module = sys.modules.get(name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        return None
    return module


def live_cluster_objects() -> list[Any]:
    """Every Dask cluster object this process holds: distributed's SpecCluster instances
    (LocalCluster, dask-jobqueue's, the implicit cluster of ``Client()``), dask-gateway's
    GatewayCluster instances, and the ``cluster`` of every Client (``_instances`` WeakSets).
    Only from modules already imported: looking imports nothing."""
    if loaded_module("distributed") is None:
        return []
    found: dict[int, Any] = {}
    spec = loaded_module("distributed.deploy.spec")
    client = loaded_module("distributed.client")
    gateway = loaded_module("dask_gateway.client")
    groups = [
        list(spec.SpecCluster._instances) if spec else [],
        list(gateway.GatewayCluster._instances) if gateway else [],
        [c.cluster for c in list(client.Client._instances)] if client else [],
    ]
    for group in groups:
        for cluster in group:
            if cluster is not None:
                found.setdefault(id(cluster), cluster)
    return list(found.values())
