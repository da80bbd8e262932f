"""One Dask cluster of this kernel, served to Jupyter servers (see discovery.py).

``KernelClusterService`` serves it with the cluster hosts' protocol (server/service.py);
``KernelDeployment`` reaches the cluster object on its own event loop, from the discovery
thread, and never keeps it alive: the notebook owns it.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
import weakref
from collections.abc import Callable
from typing import Any

from distributed import Scheduler

from clustercraft.server import internals
from clustercraft.server.hoststate import KERNEL, socket_path
from clustercraft.server.service import ClusterService
from clustercraft.server.spec import ClusterSpec
from clustercraft.server.watched import WatchedDeployment

from .discovery import CLOSE_TIMEOUT, OP_TIMEOUT, status_name


class ClusterGone(RuntimeError):
    """The cluster object was garbage-collected."""


class KernelDeployment(WatchedDeployment):
    """A cluster object of this process, read and driven on its own event loop."""

    def __init__(self, cluster: Any, spec: ClusterSpec, on_change: Callable[[], None]) -> None:
        super().__init__(spec, on_change)
        self.ref = weakref.ref(cluster)
        self.cluster = self.ref  # "started": the service may act on it

    def target(self) -> Any:
        cluster = self.ref()
        if cluster is None:
            raise ClusterGone("the cluster was garbage-collected")
        return cluster

    async def on_cluster_loop(self, work: Callable[[Any], Any], timeout: float = OP_TIMEOUT):
        """``work(cluster)`` (awaited when it returns an awaitable), run on the cluster's loop:
        that loop's thread is the only one that may read its scheduler. ``work`` must not
        block: reads, never the cluster's own synchronous methods."""
        cluster = self.target()

        async def call() -> Any:
            result = work(cluster)
            return await result if inspect.isawaitable(result) else result

        coroutine = call()
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, cluster.loop.asyncio_loop)
        except RuntimeError:  # its loop has ended: the cluster closed
            coroutine.close()
            raise
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except asyncio.TimeoutError:
            future.cancel()
            raise TimeoutError(
                "the cluster's event loop did not answer (is the kernel busy?)"
            ) from None

    async def read(self) -> dict[str, Any]:
        return await self.on_cluster_loop(read_cluster)

    async def as_owner(self, work: Callable[[Any], Any], timeout: float = OP_TIMEOUT) -> Any:
        """``work(cluster)`` from a worker thread, as the notebook calls its cluster's methods
        from its main thread: a synchronous cluster runs them on its loop and waits (calling
        them on that loop would block it: dask-gateway's do), an asynchronous one returns an
        awaitable, which its loop runs."""
        cluster = self.target()

        def call() -> Any:
            result = work(cluster)
            if not inspect.isawaitable(result):
                return result

            async def awaited() -> Any:
                return await result

            loop = cluster.loop.asyncio_loop
            return asyncio.run_coroutine_threadsafe(awaited(), loop).result(timeout)

        return await asyncio.wait_for(asyncio.to_thread(call), timeout)

    async def scale(self, n: int) -> None:
        await self.as_owner(lambda cluster: cluster.scale(n))
        await self.refresh()

    async def adapt(self, minimum: int, maximum: int) -> None:
        await self.as_owner(lambda cluster: cluster.adapt(minimum=minimum, maximum=maximum))
        await self.refresh()

    async def stop_adapt(self) -> None:
        await self.on_cluster_loop(internals.stop_adaptive)  # no blocking call: on its loop
        await self.refresh()

    async def close(self, force: bool = False) -> None:
        # A synchronous cluster's own loop thread ends too, as with the notebook's close().
        await self.as_owner(lambda cluster: cluster.close(), CLOSE_TIMEOUT)

    def elsewhere(self) -> str:
        return "this cluster cannot be scaled"


async def read_cluster(cluster: Any) -> dict[str, Any]:
    """What the panel shows of ``cluster``; on the cluster's loop."""
    scheduler = getattr(cluster, "scheduler", None)
    if isinstance(scheduler, Scheduler):  # in this process: read directly
        identity = scheduler.identity()
    else:  # e.g. a gateway's: ask it
        identity = await cluster.scheduler_comm.identity()
    specified = hasattr(cluster, "worker_spec")
    return {
        "identity": identity,
        "requested": internals.planned_workers(cluster) if specified else None,
        "all_started": internals.all_started(cluster) if specified else True,
        "adapt": adapt_range(internals.adaptive(cluster)),
        "processes": getattr(cluster, "processes", None),
        "status": status_name(cluster),
        "scheduler_address": getattr(cluster, "scheduler_address", None),
    }


def adapt_range(adaptive: Any) -> dict[str, Any] | None:
    """``{minimum, maximum}`` of an Adaptive (maximum None: no limit), or None."""
    if adaptive is None:
        return None
    maximum = adaptive.maximum
    return {
        "minimum": int(adaptive.minimum),
        "maximum": int(maximum) if maximum != float("inf") else None,
    }


class KernelClusterService(ClusterService):
    """Serves one cluster of this kernel until it closes or the discovery ends."""

    origin = KERNEL

    def __init__(
        self,
        cluster: Any,
        cluster_id: str,
        directory: str,
        kernel: dict[str, Any],
        short_dir: Callable[[], str],
    ) -> None:
        name = f"{type(cluster).__name__} {cluster.name}"
        super().__init__(
            cluster_id,
            ClusterSpec(name=name, n_workers=0),
            socket_path(directory, cluster_id, short_dir),
            os.path.join(directory, f"{cluster_id}.json"),
        )
        self.kernel = kernel
        self.deployment = KernelDeployment(cluster, self.spec, self.push)
        self.cluster = self.deployment.cluster
        self.status = "running"  # found running

    async def run(self) -> None:
        await self.deployment.refresh()
        self.started = self.deployment.started_at or time.time()
        await self.listen()
        self.deployment.watch()
        try:
            await self.closed.wait()
        finally:
            await self.deployment.let_go()
            await self.shut()

    def snapshot(self) -> dict[str, Any]:
        cluster = super().snapshot()
        if self.deployment.view.get("status") == "closing":
            cluster["status"] = "closing"
        return cluster

    def adapt_range(self) -> dict[str, Any] | None:
        return self.deployment.adapt_range()

    async def stop_adapt(self) -> None:
        await self.deployment.stop_adapt()  # the notebook may have made it adaptive itself

    async def forget(self) -> None:
        raise ValueError(
            f"cluster {self.name!r} is listed while it runs in its kernel: shut it down, "
            "or close it in the kernel"
        )
