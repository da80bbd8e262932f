"""A cluster host: one process per cluster, outside the Jupyter server's event loop.

``python -m clustercraft.server.host --id ID --runtime-dir DIR --socket PATH --spec JSON``
runs a cluster (``distributed.LocalCluster`` unless the server configured another
factory) and serves JSON lines on a Unix-domain socket:

- requests ``{"req": n, "op": "snapshot"|"watch"|"scale"|"adapt"|"reset_peaks"|"close", ...}``
  answered by ``{"req": n, "ok": true, "cluster": {...}}`` or
  ``{"req": n, "ok": false, "message": ...}``;
- pushes ``{"event": "cluster", "cluster": {...}}`` whenever a worker joins or leaves or the
  status changes, and once a second to connections that asked to ``watch``.

With ``--spec -`` the host is a standby, started ahead of need by a server whose panel is
open: it imports distributed and warms its worker start (a forkserver with distributed,
numpy and pandas imported, when ``--worker-start forkserver``), then waits for its spec as
one line on stdin; end of input (the server went away) makes it exit.

Nobody connected for ``--grace`` seconds (the server died and did not come back): the
host closes its cluster and exits. It writes ``<id>.json`` next to the socket so a
restarted server can find it again (see hoststate.py).

One server owns the host at a time: a connection's first request is ``{"op": "claim",
"server": ID}``. The server that launched the host (``--owner``) holds it while it stays
connected; another server's claim is refused until that lease lapses, and only the owner's
connection may scale, adapt or close the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import time
from typing import Any

import dask
import psutil
from distributed.core import Status
from distributed.diagnostics.plugin import SchedulerPlugin

from clustercraft.schema import worker_rows
from clustercraft.server.factory import (
    LOCAL_CLUSTER,
    factory_fields,
    import_factory,
    is_local_cluster,
)
from clustercraft.server.hoststate import (
    LEASE_SECONDS,
    RENEW_INTERVAL,
    HostState,
    write_state,
)
from clustercraft.server.spec import Adapt, ClusterSpec
from clustercraft.worker_peak import (
    MEMORY_RESTART_TOPIC,
    peak_method,
    plugin_registration,
    reset_message,
)

log = logging.getLogger("clustercraft.host")

WATCH_INTERVAL = 1.0  # seconds between pushes to watching connections
OWNER_OPS = (
    "scale",
    "adapt",
    "reset_peaks",
    "record",
    "close",
)  # what only the owning server may ask
# The server proxies the dashboard from the address reported here; a hub's link template
# (e.g. "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status") would hide where it really is.
DIRECT_DASHBOARD_LINK = "{scheme}://{host}:{port}/status"


class NotOwner(PermissionError):
    """The request came from a server that does not own this host."""


class WorkerEvents(SchedulerPlugin):
    """Tells the host at once when a worker joins or leaves the scheduler."""

    name = "clustercraft-worker-events"

    def __init__(self, on_change) -> None:
        self.on_change = on_change

    def add_worker(self, scheduler, worker: str) -> None:
        self.on_change()

    def remove_worker(self, scheduler, worker: str, **kwargs: Any) -> None:
        self.on_change()


def prepare_worker_start(method: str) -> None:
    """Set how LocalCluster starts worker processes; warm a forkserver now if asked.

    A forkserver imports distributed and its optional packages (numpy, pandas, ...) once;
    every worker process is then a fork of it instead of a fresh interpreter that imports
    them all again (~0.4 s each, all at the same time).
    """
    if not method:
        return
    dask.config.set({"distributed.worker.multiprocessing-method": method})
    if method == "forkserver":
        import multiprocessing.forkserver

        from distributed.utils import get_mp_context

        get_mp_context()  # sets the forkserver's preload list
        multiprocessing.forkserver.ensure_running()


class ClusterHost:
    def __init__(self, args: argparse.Namespace) -> None:
        self.id: str = args.id
        self.spec = ClusterSpec.from_json(json.loads(args.spec))
        self.name: str = self.spec.name or self.id
        self.socket_path: str = args.socket
        self.state_path = os.path.join(args.runtime_dir, f"{self.id}.json")
        self.grace: float = args.grace
        self.factory: str = args.factory
        self.factory_kwargs: dict[str, Any] = json.loads(args.factory_kwargs)
        self.started = time.time()
        self.status = "starting"
        self.error: str | None = None  # why workers did not start, for the panel
        self.cluster = None
        self.adapt = self.spec.adapt
        self.requested = self.spec.n_workers
        self.recording: tuple[float, int] | None = None  # (start, monitor count) of a report
        self.restarts_before_reset = 0  # memory restarts seen before the last reset_peaks
        self.connections: dict[asyncio.StreamWriter, bool] = {}  # writer -> watching
        self.owner: str = args.owner  # the launching server holds the host while it connects
        self.owner_writer: asyncio.StreamWriter | None = None
        self.lease_until = self.started + LEASE_SECONDS
        self.create_time = psutil.Process().create_time()
        self.closed = asyncio.Event()
        self._push_pending = False
        self._grace_timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        server = await asyncio.start_unix_server(self.serve, path=self.socket_path)
        os.chmod(self.socket_path, 0o600)
        self.write_state()
        self.arm_grace()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(self.close()))
        loops = [asyncio.ensure_future(self.watch_loop()), asyncio.ensure_future(self.lease_loop())]
        try:
            await self.start_cluster()
            await self.closed.wait()
        finally:
            for task in loops:
                task.cancel()
            server.close()
            for path in (self.socket_path, self.state_path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    def spec_kwargs(self, factory: Any) -> dict[str, Any]:
        """The request's fields the factory takes; loopback addresses for local clusters."""
        spec = {
            "threads_per_worker": self.spec.threads_per_worker,
            "memory_limit": self.spec.memory_limit or "auto",
            "processes": self.spec.processes,
        }
        kwargs = {name: spec[name] for name in factory_fields(factory)}
        if is_local_cluster(factory):
            kwargs |= {
                "host": "127.0.0.1",
                "protocol": "tcp://",  # kernels connect from other processes, even to threads
                "dashboard_address": "127.0.0.1:0",
            }
        return kwargs

    async def start_cluster(self) -> None:
        try:
            factory = import_factory(self.factory)
            kwargs = {"asynchronous": True, "n_workers": 0} | self.spec_kwargs(factory)
            cluster = await factory(**(kwargs | self.factory_kwargs))
        except Exception:
            log.exception("cluster %s failed to start", self.id)
            self.status = "lost"
            self.push()
            await self.close()
            return
        self.cluster = cluster
        # Worker joins are seen as they happen: the plugin is in before any worker starts.
        cluster.scheduler.add_plugin(WorkerEvents(self.push))
        # Every worker, restarted ones too, reports its own peak memory in its heartbeat.
        await cluster.scheduler.register_worker_plugin(None, **plugin_registration())
        self.write_state()
        if self.adapt:
            cluster.adapt(minimum=self.adapt.minimum, maximum=self.adapt.maximum)
        if self.spec.n_workers:
            cluster.scale(self.spec.n_workers)
        self.push()
        # "running" once every worker process is fully up (nannies included), not just registered.
        await self.workers_started()

    async def workers_started(self) -> None:
        """Wait for the cluster's workers to start; say why in ``error`` when they cannot."""
        correct_state = getattr(self.cluster, "_correct_state", None)
        if correct_state is None:
            return
        try:
            await correct_state()
            self.error = None
        except Exception as exc:
            log.warning("cluster %s: workers failed to start", self.id, exc_info=True)
            self.error = f"Workers failed to start: {_reason(exc)}"
            if self.status == "starting":
                self.status = "running"  # the scheduler runs; the error says what is missing
        self.push()

    async def close(self) -> None:
        if self.status == "closing" or self.closed.is_set():
            return
        self.status = "closing"
        self.push()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                await self.cluster.close()
        self.closed.set()

    def arm_grace(self) -> None:
        if self._grace_timer is None and not self.connections:
            loop = asyncio.get_running_loop()
            self._grace_timer = loop.call_later(
                self.grace, lambda: asyncio.ensure_future(self.close())
            )

    def disarm_grace(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer.cancel()
            self._grace_timer = None

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
            scheduler_address=self.cluster.scheduler_address if self.cluster else None,
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
        if self.status == "closing":  # its state file is about to go; do not bring it back
            return
        try:
            self.write_state()
        except OSError:  # the lease holds in this process; the file only tells other servers
            log.warning("cluster %s: cannot write the state file", self.id, exc_info=True)

    def release(self, writer: asyncio.StreamWriter) -> None:
        """The owner's connection closed: any server may adopt the host now."""
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
        cluster = self.cluster
        scheduler = getattr(cluster, "scheduler", None)
        workers = scheduler.identity()["workers"] if scheduler is not None else {}
        rows = worker_rows(workers)
        if cluster is not None and hasattr(cluster, "worker_spec"):
            self.requested = len(cluster.worker_spec)
        if self.status == "starting" and len(rows) >= self.requested and _all_started(cluster):
            self.status = "running"
        processes = getattr(cluster, "processes", None)
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "scheduler_address": cluster.scheduler_address if cluster else None,
            "dashboard_link": _dashboard_link(cluster),
            "n_workers": len(rows),
            "requested_workers": self.requested,
            "total_threads": sum(row["nthreads"] for row in rows),
            "total_memory": sum(row["memory_limit"] for row in rows),
            "memory_used": sum(row["memory"] for row in rows),
            "processes": self.spec.processes if processes is None else bool(processes),
            "adapt": {"minimum": self.adapt.minimum, "maximum": self.adapt.maximum}
            if self.adapt
            else None,
            "started": self.started,
            "error": self.error,
            "recording": self.recording[0] if self.recording else None,
            "memory_restarts": self.memory_restarts() - self.restarts_before_reset,
            "memory_peak_method": peak_method(workers),
            "workers": rows,
        }

    def memory_restarts(self) -> int:
        """Workers the nannies restarted for using too much memory, since the cluster started."""
        scheduler = getattr(self.cluster, "scheduler", None)
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
        self.disarm_grace()
        try:
            while line := await reader.readline():
                request = json.loads(line)
                try:
                    result, extra = await self.handle(writer, request)
                    reply = {"req": request.get("req"), "ok": True, "cluster": result, **extra}
                except NotOwner as exc:
                    reply = {"req": request.get("req"), "ok": False, "message": str(exc)}
                except Exception as exc:  # the server turns this into a clean error
                    log.exception("request %s failed", request.get("op"))
                    reply = {"req": request.get("req"), "ok": False, "message": str(exc)}
                writer.write(_line(reply))
                await writer.drain()
                if request.get("op") == "close" and reply["ok"]:
                    break
        except (ConnectionError, json.JSONDecodeError, asyncio.CancelledError):
            pass
        finally:
            self.connections.pop(writer, None)
            writer.close()
            self.release(writer)
            self.arm_grace()

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
        elif op == "scale":
            self.require_cluster()
            self.stop_adapt()
            self.cluster.scale(int(request["n"]))
            self.requested = int(request["n"])
            self.push()
            asyncio.ensure_future(self.workers_started())
        elif op == "adapt":
            self.require_cluster()
            if request.get("minimum") is None:
                self.stop_adapt()
            else:
                self.adapt = Adapt(int(request["minimum"]), int(request["maximum"]))
                self.cluster.adapt(minimum=self.adapt.minimum, maximum=self.adapt.maximum)
            self.push()
        elif op == "reset_peaks":
            self.require_cluster()
            self.restarts_before_reset = self.memory_restarts()
            await self.cluster.scheduler.broadcast(**reset_message())
        elif op == "record":
            self.require_cluster()
            extra = await self.record(request.get("action"))
            self.push()
        elif op == "close":
            await self.close()
        elif op != "snapshot":
            raise ValueError(f"unknown op {op!r}")
        return self.snapshot(), extra

    async def record(self, action: Any) -> dict[str, Any]:
        """Start recording a performance report, or stop and return it as HTML."""
        scheduler = getattr(self.cluster, "scheduler", None)
        if scheduler is None:  # e.g. a gateway's scheduler runs elsewhere
            raise RuntimeError("performance reports need the scheduler in this host")
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
            raise RuntimeError("the cluster is still starting")

    def stop_adapt(self) -> None:
        adaptive = getattr(self.cluster, "_adaptive", None)
        if adaptive is not None:
            adaptive.stop()
            self.cluster._adaptive = None
        self.adapt = None


def _all_started(cluster) -> bool:
    if cluster is None:
        return False
    workers = getattr(cluster, "workers", {})  # SpecCluster: name -> Nanny or Worker
    # SpecCluster adds a worker here only once its start (the nanny's included) is done; a
    # worker process registers with the scheduler before that, and is not yet restartable.
    if not set(getattr(cluster, "worker_spec", {})) <= set(workers):
        return False
    return all(
        getattr(worker, "status", Status.running) == Status.running for worker in workers.values()
    )


def _reason(exc: BaseException, limit: int = 300) -> str:
    """The innermost cause of ``exc`` in one line, without a traceback."""
    for _ in range(20):  # a chain, not a cycle
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return f"{type(exc).__name__}: {exc}"[:limit]


def _dashboard_link(cluster) -> str | None:
    if cluster is None:
        return None
    try:
        return cluster.dashboard_link
    except Exception:  # no dashboard (bokeh missing): distributed raises KeyError
        return None


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clustercraft.server.host")
    parser.add_argument("--id", required=True)
    parser.add_argument("--runtime-dir", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument(
        "--spec", required=True, help="ClusterSpec as JSON; '-': wait for it on stdin (standby)"
    )
    parser.add_argument("--grace", type=float, default=60.0)
    parser.add_argument("--owner", required=True, help="id of the server that launches the host")
    parser.add_argument("--factory", default=LOCAL_CLUSTER)
    parser.add_argument("--factory-kwargs", default="{}")
    parser.add_argument(
        "--worker-start",
        choices=("forkserver", "spawn", ""),
        default="",
        help="multiprocessing method of LocalCluster workers ('': dask's configuration)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    dask.config.set({"distributed.dashboard.link": DIRECT_DASHBOARD_LINK})
    if args.factory == LOCAL_CLUSTER:
        prepare_worker_start(args.worker_start)
    if args.spec == "-":
        args.spec = sys.stdin.readline()
        if not args.spec.strip():
            return  # the server let go of its standby, or went away
        log.info("standby host %s: spec received", args.id)
    asyncio.run(ClusterHost(args).run())


if __name__ == "__main__":
    main()
