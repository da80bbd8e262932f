"""How a host runs the cluster of one profile: what it builds, how it scales, what it reports.

- :class:`Deployment`: a cluster whose scheduler runs in the host process (``LocalCluster``,
  or a site's own factory).
- ``JobQueueDeployment`` (jobqueue.py): a dask-jobqueue cluster; its jobs are watched in the
  queue, ended ones replaced, cancels checked.
- ``GatewayDeployment`` (gateway.py): a Dask Gateway cluster; scheduler and workers run
  wherever the gateway puts them.
- ``AddressDeployment`` (watched.py): a scheduler started elsewhere, watched at its address.

``error`` says why requested workers are missing (it stays until they really run), and why
the last shut down failed (until the queue or gateway answers again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from clustercraft.profiles import GATEWAY, JOBQUEUE, LOCAL, profile_kind

from . import internals
from .hoststate import ADDRESS
from .profiles import import_factory
from .spec import ClusterSpec

log = logging.getLogger("clustercraft.host")

LOOPBACK = {
    "host": "127.0.0.1",
    "protocol": "tcp://",  # kernels connect from other processes, even to threads
    "dashboard_address": "127.0.0.1:0",
}


class JobsLeft(RuntimeError):
    """Closing could not stop every job (or gateway cluster); the cluster keeps running."""


class Deployment:
    """A SpecCluster whose scheduler runs in this process."""

    started_here = True  # False (watched.py): closing or forgetting it is the user's call
    started_at: float | None = None  # when the scheduler started, where that is known

    def __init__(
        self, launch: dict[str, Any], spec: ClusterSpec, on_change: Callable[[], None]
    ) -> None:
        self.factory: str = launch["factory"]
        self.kwargs: dict[str, Any] = dict(launch.get("kwargs") or {})
        self.kind = profile_kind(self.factory)
        self.spec = spec
        self.on_change = on_change  # the host pushes a new state
        self.cluster: Any = None
        self.security: Any = None  # a Security: scheduler and workers speak TLS with it
        self.start_error: str | None = None  # why workers did not start, until they run
        self.close_error: str | None = None  # why the last close left jobs, until it can

    # ------------------------------------------------------------ lifecycle

    def factory_kwargs(self) -> dict[str, Any]:
        """The profile's kwargs, then the request's field values (None: the factory's own)."""
        options = {k: v for k, v in self.spec.options.items() if v is not None}
        kwargs = {"asynchronous": True, "n_workers": 0, **self.kwargs, **options}
        if self.kind == LOCAL:
            kwargs = {**LOOPBACK, "memory_limit": "auto", **kwargs}
        if self.security is not None:
            kwargs |= {"security": self.security, "protocol": "tls://"}
        return kwargs

    async def start(self) -> None:
        factory = import_factory(self.factory)
        self.cluster = await factory(**self.factory_kwargs())

    async def close(self, force: bool = False) -> None:
        await self.cluster.close()

    # ------------------------------------------------------------ scaling

    async def scale(self, n: int) -> None:
        self.cluster.scale(n)

    async def adapt(self, minimum: int, maximum: int) -> None:
        self.cluster.adapt(minimum=minimum, maximum=maximum)

    async def stop_adapt(self) -> None:
        internals.stop_adaptive(self.cluster)

    async def workers_started(self) -> None:
        """Wait for the requested workers to start; ``error`` says why when they cannot."""
        if not hasattr(self.cluster, "worker_spec"):
            return
        try:
            await internals.correct_state(self.cluster)
        except Exception as exc:
            log.warning("workers failed to start", exc_info=True)
            self.start_error = f"Workers failed to start: {reason(exc)}"
            internals.drop_failed_workers(self.cluster)  # so that the next scale tries again

    # ------------------------------------------------------------ state

    @property
    def scheduler(self) -> Any:
        """The scheduler object when it runs in this process (plugins go there), else None."""
        return getattr(self.cluster, "scheduler", None)

    def workers(self) -> dict[str, dict[str, Any]]:
        """``Scheduler.identity()["workers"]``: address -> identity."""
        scheduler = self.scheduler
        return scheduler.identity()["workers"] if scheduler is not None else {}

    def requested(self) -> int:
        if self.cluster is not None and hasattr(self.cluster, "worker_spec"):
            return internals.planned_workers(self.cluster)
        return self.spec.n_workers

    def all_started(self) -> bool:
        return self.cluster is not None and internals.all_started(self.cluster)

    def settle(self, running: int) -> None:
        """The scheduler sees ``running`` workers: errors about missing ones may go."""
        if running >= self.requested():
            self.start_error = None

    @property
    def error(self) -> str | None:
        return self.start_error or self.close_error

    def processes(self) -> bool:
        processes = getattr(self.cluster, "processes", None)
        if processes is None:
            return bool(self.spec.options.get("processes", True))
        return bool(processes)

    def worker_jobs(self) -> dict[str, tuple[str | None, str | None]]:
        """Worker name -> (job id, job state); empty where workers are not jobs."""
        return {}

    def jobs(self) -> dict[str, Any] | None:
        """The cluster object's ``jobs`` summary; None where workers are not jobs."""
        return None

    @property
    def scheduler_address(self) -> str | None:
        return getattr(self.cluster, "scheduler_address", None)

    @property
    def dashboard_link(self) -> str | None:
        try:
            return self.cluster.dashboard_link
        except Exception:  # no dashboard (bokeh missing): distributed raises KeyError
            return None


def make_deployment(
    launch: dict[str, Any], spec: ClusterSpec, on_change: Callable[[], None]
) -> Deployment:
    if launch.get("origin") == ADDRESS:
        from .watched import AddressDeployment

        return AddressDeployment(launch, spec, on_change)
    kind = profile_kind(launch["factory"])
    if kind == JOBQUEUE:
        from .jobqueue import JobQueueDeployment

        return JobQueueDeployment(launch, spec, on_change)
    if kind == GATEWAY:
        from .gateway import GatewayDeployment

        return GatewayDeployment(launch, spec, on_change)
    return Deployment(launch, spec, on_change)


def reason(exc: BaseException, limit: int = 300) -> str:
    """The innermost cause of ``exc`` in one line, without a traceback."""
    for _ in range(20):  # a chain, not a cycle
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    text = " ".join(str(exc).split())  # command errors span lines
    return f"{type(exc).__name__}: {text}"[:limit]
