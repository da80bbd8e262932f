"""One cluster served over a Unix socket: the JSON-lines protocol the Jupyter server speaks.

A ``ClusterService`` serves one cluster. A host process (host.py) serves the cluster it
launched, or a scheduler it watches for an address; a kernel (kernel/discovery.py) serves each
Dask cluster made in it. The protocol is the same for all:

- requests ``{"req": n, "op": ..., ...}`` answered by ``{"req": n, "ok": true, "cluster":
  {...}}`` or ``{"req": n, "ok": false, "message": ...}``, with ``op`` one of ``claim``,
  ``snapshot``, ``watch``, ``started`` (answered once the cluster started, or failed to),
  ``scale``, ``adapt``, ``reset_peaks``, ``record``, ``close`` (shut the cluster down) and
  ``forget`` (stop serving a cluster started elsewhere, leaving it running);
- pushes ``{"event": "cluster", "cluster": {...}}`` whenever a worker joins or leaves or the
  status changes, and once a second to connections that asked to ``watch``.

A close that cannot stop every job of the cluster replies ``{"ok": false, "kept": true,
"message": ...}``: the cluster keeps running, with the reason as its error.

One server owns the service at a time: a connection's first request is ``{"op": "claim",
"server": ID}``. The owner holds it while it stays connected (a lease in the state file tells
other servers); another server's claim is refused until that lease lapses, and only the
owner's connection may scale, adapt, close or forget the cluster.

The service writes ``<id>.json`` next to its socket, so that a server can find it (see
hoststate.py), and removes both when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from typing import Any

import psutil

from clustercraft.schema import cluster_model, worker_rows
from clustercraft.server.deploy import Deployment, JobsLeft
from clustercraft.server.hoststate import (
    LEASE_SECONDS,
    PANEL,
    RENEW_INTERVAL,
    HostState,
    write_state,
)
from clustercraft.server.spec import Adapt, ClusterSpec
from clustercraft.worker_peak import MEMORY_RESTART_TOPIC, peak_method, reset_message

log = logging.getLogger("clustercraft.host")

WATCH_INTERVAL = 1.0  # seconds between pushes to watching connections
OWNER_OPS = (
    "scale",
    "adapt",
    "reset_peaks",
    "record",
    "close",
    "forget",
)  # what only the owning server may ask
ENDING_OPS = ("close", "forget")  # after a successful reply, the connection ends
NEEDS_OWN_SCHEDULER = (
    "needs the scheduler in the cluster's host (not a gateway's, a kernel's, or one adopted "
    "by its address)"
)


class NotOwner(PermissionError):
    """The request came from a server that does not own this cluster."""


class ClusterService:
    """Serves one cluster; subclasses set ``deployment`` and say how it starts and ends."""

    origin = PANEL  # where the cluster comes from (hoststate.ORIGINS)

    def __init__(
        self,
        cluster_id: str,
        spec: ClusterSpec,
        socket_path: str,
        state_path: str,
        owner: str | None = None,
    ) -> None:
        self.id = cluster_id
        self.spec = spec
        self.name: str = spec.name or cluster_id
        self.socket_path = socket_path
        self.state_path = state_path
        self.deployment: Deployment  # set by the subclass
        self.kernel: dict[str, Any] | None = None  # a kernel cluster's {id, pid, notebook}
        self.started = time.time()
        self.status = "starting"
        self.error: str | None = None  # why the cluster failed to start or to shut down
        self.cluster = None
        self.adapt = spec.adapt
        self.recording: tuple[float, int] | None = None  # (start, monitor count) of a report
        self.restarts_before_reset = 0  # memory restarts seen before the last reset_peaks
        self.connections: dict[asyncio.StreamWriter, bool] = {}  # writer -> watching
        self.owner = owner  # a launching server holds its host from the start
        self.owner_writer: asyncio.StreamWriter | None = None
        self.lease_until = self.started + LEASE_SECONDS if owner else 0.0
        self.create_time = psutil.Process().create_time()
        self.closed = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None
        self._loops: list[asyncio.Task] = []
        self._starting: asyncio.Task | None = None
        self._push_pending = False

    # ------------------------------------------------------------ lifecycle

    async def listen(self) -> None:
        """Open the socket, write the state file, and start pushing and renewing."""
        self._server = await asyncio.start_unix_server(self.serve, path=self.socket_path)
        os.chmod(self.socket_path, 0o600)
        self.write_state()
        self._loops = [
            asyncio.ensure_future(self.watch_loop()),
            asyncio.ensure_future(self.lease_loop()),
        ]

    async def shut(self) -> None:
        """Stop serving: files removed first (no server adopts it again), then connections."""
        self.closed.set()
        for path in (self.socket_path, self.state_path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for task in self._loops:
            task.cancel()
        if self._server is not None:
            self._server.close()
        for writer in list(self.connections):
            writer.close()

    async def close(self, force: bool = False) -> None:
        """Stop the cluster and stop serving; unless ``force``, JobsLeft (and the cluster
        keeps running, saying why) when not every job could be stopped."""
        if self.status == "closing" or self.closed.is_set():
            return
        previous, self.status = self.status, "closing"
        self.push()
        if self.cluster is None and self._starting is not None and not self._starting.done():
            # A gateway cluster being submitted is stopped by its own start's cleanup.
            self._starting.cancel()
            with contextlib.suppress(BaseException):
                await self._starting
        if self.cluster is not None:
            try:
                await self.deployment.close(force=force)
            except JobsLeft:
                self.status = previous  # still running; the deployment's error says why
                self.push()
                raise
            except Exception:
                log.warning("cluster %s did not close cleanly", self.id, exc_info=True)
        self.closed.set()

    async def forget(self) -> None:
        """Stop serving a cluster started elsewhere; it keeps running."""
        if self.deployment.started_here:
            raise ValueError(f"cluster {self.name!r} was started here: shut it down instead")
        self.status = "closing"
        with contextlib.suppress(Exception):
            await self.deployment.let_go()
        self.closed.set()

    async def workers_started(self) -> None:
        """Wait for the cluster's workers to start; the deployment's error says why not."""
        await self.deployment.workers_started()
        if self.deployment.error and self.status == "starting":
            self.status = "running"  # the scheduler runs; the error says what is missing
        self.push()

    def connected(self) -> None:
        """A server connected (the host stops counting its grace time)."""

    def disconnected(self) -> None:
        """A server's connection closed."""

    def write_state(self) -> None:
        state = HostState(
            id=self.id,
            name=self.name,
            pid=os.getpid(),
            create_time=self.create_time,
            hostname=socket.gethostname(),
            socket=self.socket_path,
            started=self.started,
            spec=self.spec.to_json(),
            owner=self.owner,
            lease_until=self.lease_until,
            scheduler_address=self.deployment.scheduler_address,
            origin=self.origin,
            kernel=self.kernel,
        )
        write_state(self.state_path, state)

    # ------------------------------------------------------------ ownership

    def claim(self, writer: asyncio.StreamWriter, server: Any) -> None:
        """Make ``server`` the owner, unless another server still holds the lease."""
        if not isinstance(server, str) or not server:
            raise ValueError("claim needs a server id")
        held = self.owner_writer is not None and not self.owner_writer.is_closing()
        if server != self.owner and (held or time.time() < self.lease_until):
            raise NotOwner(f"cluster {self.name!r} belongs to another running Jupyter server")
        self.owner, self.owner_writer = server, writer
        self.renew()

    def renew(self) -> None:
        self.lease_until = time.time() + LEASE_SECONDS
        self.save_lease()

    def save_lease(self) -> None:
        if self.status == "closing" or self.closed.is_set():  # its state file goes: keep it gone
            return
        try:
            self.write_state()
        except OSError:  # the lease holds in this process; the file only tells other servers
            log.warning("cluster %s: cannot write the state file", self.id, exc_info=True)

    def release(self, writer: asyncio.StreamWriter) -> None:
        """The owner's connection closed: any server may adopt the cluster now."""
        if writer is self.owner_writer:
            self.owner_writer = None
            self.lease_until = 0.0
            self.save_lease()

    async def lease_loop(self) -> None:
        while True:
            await asyncio.sleep(RENEW_INTERVAL)
            if self.owner_writer is not None:
                self.renew()

    # ------------------------------------------------------------ state

    def snapshot(self) -> dict[str, Any]:
        deployment = self.deployment
        started = self.cluster is not None
        workers = deployment.workers() if started else {}
        rows = worker_rows(workers, deployment.worker_jobs()) if started else []
        requested = deployment.requested() if started else self.spec.n_workers
        if started:
            deployment.settle(len(rows))
        if self.status == "starting" and len(rows) >= requested and deployment.all_started():
            self.status = "running"
        return cluster_model(
            self.id,
            self.name,
            self.status,
            rows,
            origin=self.origin,
            kernel=self.kernel,
            profile=self.spec.profile if self.origin == PANEL else None,
            scheduler_address=deployment.scheduler_address if started else None,
            dashboard_link=deployment.dashboard_link if started else None,
            requested_workers=requested,
            processes=deployment.processes(),
            adapt=self.adapt_range(),
            started=deployment.started_at or self.started,
            error=self.error or (deployment.error if started else None),
            jobs=deployment.jobs() if started else None,
            recording=self.recording[0] if self.recording else None,
            memory_restarts=self.memory_restarts() - self.restarts_before_reset,
            memory_peak_method=peak_method(workers),
        )

    def adapt_range(self) -> dict[str, int] | None:
        adapt = self.adapt
        return {"minimum": adapt.minimum, "maximum": adapt.maximum} if adapt else None

    def memory_restarts(self) -> int:
        """Workers the nannies restarted for using too much memory, since the cluster started."""
        scheduler = self.deployment.scheduler
        return len(scheduler.get_events(MEMORY_RESTART_TOPIC)) if scheduler is not None else 0

    def push(self) -> None:
        """Send the state to every connection soon; changes in one tick go out once."""
        if not self._push_pending:
            self._push_pending = True
            asyncio.get_running_loop().call_soon(self._push_now)

    def _push_now(self) -> None:
        self._push_pending = False
        self.broadcast(self.connections)

    def broadcast(self, writers) -> None:
        if not writers:
            return
        line = _line({"event": "cluster", "cluster": self.snapshot()})
        for writer in list(writers):
            if not writer.is_closing():
                writer.write(line)

    async def watch_loop(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            self.broadcast([writer for writer, watching in self.connections.items() if watching])

    # ------------------------------------------------------------ requests

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections[writer] = False
        self.connected()
        try:
            while line := await reader.readline():
                request = json.loads(line)
                try:
                    result, extra = await self.handle(writer, request)
                    reply = {"req": request.get("req"), "ok": True, "cluster": result, **extra}
                except NotOwner as exc:
                    reply = {"req": request.get("req"), "ok": False, "message": str(exc)}
                except JobsLeft as exc:
                    message = f"cluster {self.name!r} keeps running: {exc}"
                    reply = {
                        "req": request.get("req"),
                        "ok": False,
                        "kept": True,
                        "message": message,
                    }
                except Exception as exc:  # the server turns this into a clean error
                    log.exception("request %s failed", request.get("op"))
                    reply = {"req": request.get("req"), "ok": False, "message": str(exc)}
                writer.write(_line(reply))
                await writer.drain()
                if request.get("op") in ENDING_OPS and reply["ok"]:
                    break
        except (ConnectionError, json.JSONDecodeError, asyncio.CancelledError):
            pass
        finally:
            self.connections.pop(writer, None)
            writer.close()
            self.release(writer)
            self.disconnected()

    async def handle(
        self, writer: asyncio.StreamWriter, request: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Carry out one request: the cluster's state after it, and what else the reply says."""
        op = request.get("op")
        extra: dict[str, Any] = {}
        if op in OWNER_OPS and writer is not self.owner_writer:
            raise NotOwner(f"cluster {self.name!r} belongs to another Jupyter server")
        if op == "claim":
            self.claim(writer, request.get("server"))
        elif op == "watch":
            self.connections[writer] = bool(request.get("on"))
        elif op == "started":
            if self._starting is not None:
                await asyncio.wait([self._starting])
        elif op == "scale":
            self.require_cluster()
            await self.stop_adapt()
            await self.deployment.scale(int(request["n"]))
            self.push()
            asyncio.ensure_future(self.workers_started())
        elif op == "adapt":
            self.require_cluster()
            if request.get("minimum") is None:
                await self.stop_adapt()
            else:
                self.adapt = Adapt(int(request["minimum"]), int(request["maximum"]))
                await self.deployment.adapt(self.adapt.minimum, self.adapt.maximum)
            self.push()
        elif op == "reset_peaks":
            self.require_cluster()
            self.restarts_before_reset = self.memory_restarts()
            scheduler = self.deployment.scheduler
            if scheduler is None:  # a gateway's, a kernel's, or one adopted by address
                raise RuntimeError(f"resetting peaks {NEEDS_OWN_SCHEDULER}")
            await scheduler.broadcast(**reset_message())
        elif op == "record":
            self.require_cluster()
            extra = await self.record(request.get("action"))
            self.push()
        elif op == "close":
            await self.close()
        elif op == "forget":
            await self.forget()
        elif op != "snapshot":
            raise ValueError(f"unknown op {op!r}")
        return self.snapshot(), extra

    async def record(self, action: Any) -> dict[str, Any]:
        """Start recording a performance report, or stop and return it as HTML."""
        scheduler = self.deployment.scheduler
        if scheduler is None:  # a gateway's, a kernel's, or one adopted by address
            raise RuntimeError(f"a performance report {NEEDS_OWN_SCHEDULER}")
        if action == "start":
            scheduler.get_task_stream(start=0, stop=0)  # the task stream starts recording now
            self.recording = (time.time(), scheduler.monitor.count)
            return {}
        if action != "stop":
            raise ValueError("action must be 'start' or 'stop'")
        if self.recording is None:
            raise RuntimeError("no performance report is being recorded")
        (start, count), self.recording = self.recording, None
        html = await scheduler.performance_report(
            start=start, last_count=count, code="# recorded from the Dask clusters panel"
        )
        return {"report": html}

    def require_cluster(self) -> None:
        if self.cluster is None:
            raise RuntimeError(self.error or "the cluster is still starting")

    async def stop_adapt(self) -> None:
        if self.adapt is not None:
            self.adapt = None
            await self.deployment.stop_adapt()


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"
