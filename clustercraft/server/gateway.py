"""A Dask Gateway cluster in a host: the gateway runs scheduler and workers; the host asks it.

The profile's kwargs are ``GatewayCluster``'s (``address``, ``proxy_address``, ``auth``, ...);
the request's field values are the gateway's cluster options. ``auth`` may be a dict
``{"type": "basic", "username": ..., "password": ...}`` (any ``dask_gateway.auth`` type and
its keyword arguments): server configuration, never shown to a browser.

The gateway does not list workers it has yet to start, so ``pending`` is what was asked for
and has not joined. A scale the gateway cuts (its ``cluster_max_workers``) or refuses is an
error until the requested workers run.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from typing import Any

from .deploy import Deployment, JobsLeft, reason

log = logging.getLogger("clustercraft.host")

MEMBERSHIP_INTERVAL = 0.1  # seconds between looks at the workers the scheduler pushed
REFRESH_INTERVAL = 1.0  # seconds between fresh worker metrics from the scheduler
REQUEST_TIMEOUT = 30.0


def gateway_auth(auth: Any) -> Any:
    """A ``GatewayAuth`` from a config dict ``{"type", **kwargs}``; anything else as given."""
    if not isinstance(auth, dict):
        return auth
    import dask
    from dask_gateway.auth import get_auth

    settings = dict(auth)
    kind = settings.pop("type", "basic")
    with dask.config.set({"gateway.auth.kwargs": settings}):
        return get_auth(kind)


class GatewayDeployment(Deployment):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target = self.spec.n_workers  # what was asked; the gateway does not say
        self.adapting = False
        self.fresh: dict[str, dict[str, Any]] = {}  # address -> identity, refreshed
        self._watch: asyncio.Task | None = None

    def factory_kwargs(self) -> dict[str, Any]:
        options = {k: v for k, v in self.spec.options.items() if v is not None}
        kwargs = {"asynchronous": True, "shutdown_on_close": True, **self.kwargs, **options}
        kwargs["auth"] = gateway_auth(kwargs.get("auth"))
        return kwargs

    async def start(self) -> None:
        await super().start()  # submits the cluster and waits for its scheduler
        self._watch = asyncio.ensure_future(self.watch_loop())

    async def close(self, force: bool = False) -> None:
        if self._watch is not None:
            self._watch.cancel()
        name = self.cluster.name
        try:
            await asyncio.wait_for(self.cluster.gateway.stop_cluster(name), REQUEST_TIMEOUT)
        except Exception as exc:
            if not force:
                self._watch = asyncio.ensure_future(self.watch_loop())
                message = f"Dask Gateway did not stop cluster {name}: {reason(exc)}"
                self.close_error = f"Shut down failed: {message}"
                raise JobsLeft(message) from None
            log.error("Dask Gateway did not stop cluster %s: %s", name, exc)
        await self.cluster.close(shutdown=False)  # stopped above; close the connections

    # ------------------------------------------------------------ scaling

    async def scale(self, n: int) -> None:
        self.target = n
        await self._ask(self.cluster.scale(n))

    async def adapt(self, minimum: int, maximum: int) -> None:
        self.adapting = True
        await self._ask(self.cluster.adapt(minimum=minimum, maximum=maximum))

    async def stop_adapt(self) -> None:
        self.adapting = False
        self.target = len(self.listed())
        await self._ask(self.cluster.adapt(active=False))

    async def workers_started(self) -> None:
        pass  # the gateway starts them; the watch loop sees them join

    async def _ask(self, request) -> None:
        """Send a scale or adapt request; what the gateway cuts or refuses is the error."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                await asyncio.wait_for(request, REQUEST_TIMEOUT)
            except Exception as exc:
                self.start_error = f"Dask Gateway refused: {reason(exc)}"
                raise
        said = [str(w.message) for w in caught if type(w.message).__name__ == "GatewayWarning"]
        if said:
            self.start_error = f"Dask Gateway: {' '.join(said)}"

    # ------------------------------------------------------------ state

    async def watch_loop(self) -> None:
        members: set[str] | None = None
        refresh_at = 0.0
        while True:
            await asyncio.sleep(MEMBERSHIP_INTERVAL)
            listed = set(self.listed())
            if listed != members or time.monotonic() >= refresh_at:
                refresh_at = time.monotonic() + REFRESH_INTERVAL
                await self.refresh()
            if listed != members:
                members = listed
                self.on_change()

    async def refresh(self) -> None:
        try:
            identity = await asyncio.wait_for(
                self.cluster.scheduler_comm.identity(n_workers=-1), REQUEST_TIMEOUT
            )
        except Exception as exc:  # the last figures stay; membership still comes pushed
            log.debug("no fresh worker metrics from the gateway's scheduler: %s", exc)
            return
        self.fresh = identity.get("workers") or {}

    def listed(self) -> dict[str, dict[str, Any]]:
        """The workers the scheduler pushed (GatewayCluster subscribes to their joins)."""
        return (getattr(self.cluster, "scheduler_info", None) or {}).get("workers") or {}

    def workers(self) -> dict[str, dict[str, Any]]:
        return {address: self.fresh.get(address, info) for address, info in self.listed().items()}

    @property
    def scheduler(self) -> Any:
        return None  # it runs where the gateway put it

    def requested(self) -> int:
        return len(self.listed()) if self.adapting else self.target

    def all_started(self) -> bool:
        return len(self.listed()) >= self.requested()

    def processes(self) -> bool:
        return True

    def jobs(self) -> dict[str, Any]:
        running = len(self.listed())
        return {
            "system": "gateway",
            "queue": None,
            "cluster_name": getattr(self.cluster, "name", None),
            "running": running,
            "pending": max(0, self.requested() - running),
            "jobs": [],
            "ended": [],
        }
