"""Clusters served without being run here: their state is read, once a second, as plain data.

- ``WatchedDeployment``: what a host or a kernel knows of a cluster it did not launch: the
  scheduler's ``identity()`` (workers included) and, when the cluster object is at hand, its
  requested workers and adaptive range, read into ``view``; a join, a departure or a status
  change is pushed at once (within a second).
- ``AddressDeployment``: a scheduler started elsewhere (dask-mpi, ``dask scheduler``, a
  colleague's), reached from the host process at its address. It cannot be scaled from here;
  Shut down terminates the scheduler (its workers close with it), Forget (``let_go``) leaves it
  running.

The kernel's own kind, for clusters made in a kernel, is kernel/discovery.py's
``KernelDeployment``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from .deploy import Deployment, reason
from .spec import ClusterSpec

log = logging.getLogger("clustercraft.host")

REFRESH_INTERVAL = 1.0  # seconds between reads of the scheduler's identity
READ_TIMEOUT = 5.0  # seconds a read may take before the last one stands
CONNECT_TIMEOUT = 5.0  # seconds something must answer at an adopted address


class StartedElsewhere(RuntimeError):
    """Scaling a cluster that clustercraft only watches."""


class WatchedDeployment(Deployment):
    """A cluster read through ``read()``; subclasses say how to read, scale and close it."""

    started_here = False

    def __init__(self, spec: ClusterSpec, on_change: Callable[[], None]) -> None:
        super().__init__({"factory": ""}, spec, on_change)
        # identity: Scheduler.identity(); requested, all_started, adapt, processes, status:
        # what the cluster object says, when there is one.
        self.view: dict[str, Any] = {}
        self.read_error: str | None = None
        self._watch: asyncio.Task | None = None

    async def read(self) -> dict[str, Any]:
        raise NotImplementedError

    async def refresh(self) -> None:
        """Read the cluster now; push when its workers or status changed."""
        try:
            view = await asyncio.wait_for(self.read(), READ_TIMEOUT)
        except asyncio.TimeoutError:
            return  # busy (a kernel running a cell on the cluster's loop): the last read stands
        except Exception as exc:
            error = f"Cannot read the cluster's state: {reason(exc)}"
            if error != self.read_error:
                self.read_error = error
                self.on_change()
            return
        changed = self.read_error is not None or _outline(view) != _outline(self.view)
        self.view, self.read_error = view, None
        if changed:
            self.on_change()

    async def watch_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_INTERVAL)
            await self.refresh()

    def watch(self) -> None:
        self._watch = asyncio.ensure_future(self.watch_loop())

    async def let_go(self) -> None:
        """Stop watching; the cluster keeps running."""
        if self._watch is not None:
            self._watch.cancel()

    # ------------------------------------------------------------ scaling

    async def scale(self, n: int) -> None:
        raise StartedElsewhere(self.elsewhere())

    async def adapt(self, minimum: int, maximum: int) -> None:
        raise StartedElsewhere(self.elsewhere())

    async def stop_adapt(self) -> None:
        pass

    async def workers_started(self) -> None:
        pass

    def elsewhere(self) -> str:
        return "this cluster was started elsewhere: clustercraft shows it but does not scale it"

    # ------------------------------------------------------------ state

    @property
    def identity(self) -> dict[str, Any]:
        return self.view.get("identity") or {}

    @property
    def scheduler(self) -> Any:
        return None  # not in this process, or not this thread's to touch

    def workers(self) -> dict[str, dict[str, Any]]:
        return self.identity.get("workers") or {}

    def requested(self) -> int:
        requested = self.view.get("requested")
        return len(self.workers()) if requested is None else requested

    def all_started(self) -> bool:
        return self.view.get("all_started", True)

    def adapt_range(self) -> dict[str, Any] | None:
        return self.view.get("adapt")

    @property
    def error(self) -> str | None:
        return self.read_error or self.start_error or self.close_error

    def processes(self) -> bool:
        processes = self.view.get("processes")
        if processes is None:  # a nanny per worker means worker processes
            return any(info.get("nanny") for info in self.workers().values())
        return bool(processes)

    @property
    def started_at(self) -> float | None:
        return self.identity.get("started")

    @property
    def scheduler_address(self) -> str | None:
        return self.view.get("scheduler_address") or self.identity.get("address")

    @property
    def dashboard_link(self) -> str | None:
        return direct_dashboard_link(self.identity)


class AddressDeployment(WatchedDeployment):
    """A scheduler at ``launch["address"]``, reached with ``launch["security"]`` (tls://)."""

    def __init__(
        self, launch: dict[str, Any], spec: ClusterSpec, on_change: Callable[[], None]
    ) -> None:
        super().__init__(spec, on_change)
        self.address: str = launch["address"]
        self.tls: dict[str, str] | None = launch.get("security")
        self.rpc: Any = None

    async def start(self) -> None:
        """Connect and read the scheduler once; raise saying why when nothing answers."""
        from distributed.core import rpc
        from distributed.security import Security

        security = Security(require_encryption=True, **self.tls) if self.tls else Security()
        self.rpc = rpc(
            self.address,
            connection_args=security.get_connection_args("client"),
            timeout=CONNECT_TIMEOUT,
        )
        try:
            identity = await asyncio.wait_for(self.rpc.identity(), CONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            await self.rpc.close_rpc()
            raise TimeoutError(f"nothing answered within {CONNECT_TIMEOUT:g} s") from None
        except BaseException:
            await self.rpc.close_rpc()
            raise
        if not isinstance(identity, dict) or identity.get("type") != "Scheduler":
            await self.rpc.close_rpc()
            kind = identity.get("type") if isinstance(identity, dict) else None
            raise ValueError(f"a Dask {kind or 'server'} answers there, not a scheduler")
        self.view = {"identity": identity}
        self.cluster = self.rpc
        self.watch()

    async def read(self) -> dict[str, Any]:
        return {"identity": await self.rpc.identity()}

    async def close(self, force: bool = False) -> None:
        """Shut the scheduler down; its workers close with it."""
        await super().let_go()  # no more reads; the rpc stays open for the terminate
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            # The scheduler closes its comms as it goes: the reply may never come.
            await asyncio.wait_for(self.rpc.terminate(), CONNECT_TIMEOUT)
        await self.rpc.close_rpc()

    async def let_go(self) -> None:
        await super().let_go()
        if self.rpc is not None:
            await self.rpc.close_rpc()

    def elsewhere(self) -> str:
        return (
            f"the scheduler at {self.address} was started elsewhere: clustercraft shows it, "
            "forgets it or shuts it down, but does not scale it"
        )


def direct_dashboard_link(identity: dict[str, Any]) -> str | None:
    """The scheduler's dashboard at its own host (the server proxies it), from identity()."""
    port = (identity.get("services") or {}).get("dashboard")
    address = identity.get("address")
    if not port or not address:
        return None
    from distributed.comm import get_address_host

    host = get_address_host(address)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/status"


def _outline(view: dict[str, Any]) -> tuple:
    """What a push is due for: which workers, in which status; the cluster's own status."""
    workers = (view.get("identity") or {}).get("workers") or {}
    members = frozenset((address, info.get("status")) for address, info in workers.items())
    return (
        members,
        view.get("status"),
        view.get("requested"),
        str(view.get("adapt")),
        view.get("all_started"),
    )
