"""A cluster host: one process per cluster, outside the Jupyter server's event loop.

``python -m clustercraft.server.host --id ID --runtime-dir DIR --socket PATH --spec JSON``
runs the cluster of one profile (see deploy.py: a LocalCluster, a job queue's, a Dask
Gateway's) and serves JSON lines on a Unix-domain socket:

- requests ``{"req": n, "op": "snapshot"|"watch"|"scale"|"adapt"|"reset_peaks"|"close", ...}``
  answered by ``{"req": n, "ok": true, "cluster": {...}}`` or
  ``{"req": n, "ok": false, "message": ...}``;
- pushes ``{"event": "cluster", "cluster": {...}}`` whenever a worker joins or leaves or the
  status changes, and once a second to connections that asked to ``watch``.

The profile (``{"name", "factory", "kwargs"}``) comes as one JSON line on stdin, never on the
command line: its kwargs may hold a gateway's password. With ``--spec -`` the host is a
standby, started ahead of need by a server whose panel is open: it imports distributed and the
modules of ``--preload`` (the configured profiles' dask_jobqueue, dask_gateway) and warms its
worker start (a forkserver with distributed, numpy and pandas imported, when ``--worker-start
forkserver``; stopped again when the profile is not local), then waits for its spec and its
profile, one line each, on stdin; end of input (the server went away) makes it exit.

A close that cannot stop every job of the cluster replies ``{"ok": false, "kept": true,
"message": ...}``: the cluster keeps running, with the reason as its error.

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
from distributed.diagnostics.plugin import SchedulerPlugin

from clustercraft.profiles import GATEWAY, JOBQUEUE, LOCAL, profile_kind
from clustercraft.runtime import remove_credentials, write_credentials
from clustercraft.schema import cluster_model, worker_rows
from clustercraft.server import internals
from clustercraft.server.deploy import JobsLeft, make_deployment, reason
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
    def __init__(self, args: argparse.Namespace, launch: dict[str, Any]) -> None:
        self.id: str = args.id
        self.spec = ClusterSpec.from_json(json.loads(args.spec))
        self.name: str = self.spec.name or self.id
        self.socket_path: str = args.socket
        self.state_path = os.path.join(args.runtime_dir, f"{self.id}.json")
        self.grace: float = args.grace
        self.runtime_dir: str = args.runtime_dir
        self.deployment = make_deployment(launch, self.spec, self.push)
        self.tls = bool(launch.get("tls"))  # credentials are written when the cluster starts
        self.started = time.time()
        self.status = "starting"
        self.error: str | None = None  # why the cluster failed to start or to shut down
        self.cluster = None
        self.adapt = self.spec.adapt
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
        self._starting: asyncio.Task | None = None

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        server = await asyncio.start_unix_server(self.serve, path=self.socket_path)
        os.chmod(self.socket_path, 0o600)
        self.write_state()
        self.arm_grace()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(self.close(force=True)))
        loops = [asyncio.ensure_future(self.watch_loop()), asyncio.ensure_future(self.lease_loop())]
        self._starting = asyncio.ensure_future(self.start_cluster())
        try:
            await self.closed.wait()
        finally:
            for task in [*loops, self._starting]:
                task.cancel()
            server.close()
            for path in (self.socket_path, self.state_path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            remove_credentials(self.runtime_dir, self.id)

    async def start_cluster(self) -> None:
        try:
            if self.tls:
                self.deployment.security = write_credentials(self.runtime_dir, self.id)
            await self.deployment.start()
        except Exception as exc:
            # The host stays, saying why, until the cluster is shut down (or the grace ends).
            log.exception("cluster %s failed to start", self.id)
            self.status = "lost"
            self.error = f"Cluster failed to start: {reason(exc)}"
            self.push()
            return
        self.cluster = self.deployment.cluster
        log.info(
            "cluster %s (%s) started: scheduler %s",
            self.name,
            self.id,
            self.deployment.scheduler_address,
        )
        scheduler = self.deployment.scheduler
        if scheduler is not None:
            # Worker joins are seen as they happen: the plugin is in before any worker starts.
            scheduler.add_plugin(WorkerEvents(self.push))
            # Every worker, restarted ones too, reports its own peak memory in its heartbeat.
            await scheduler.register_worker_plugin(None, **plugin_registration())
        self.write_state()
        try:
            if self.adapt:
                await self.deployment.adapt(self.adapt.minimum, self.adapt.maximum)
            if self.spec.n_workers:
                await self.deployment.scale(self.spec.n_workers)
        except Exception:
            log.warning("cluster %s: first scale failed", self.id, exc_info=True)
        self.push()
        # "running" once every worker process is fully up (nannies included), not just registered.
        await self.workers_started()

    async def workers_started(self) -> None:
        """Wait for the cluster's workers to start; the deployment's error says why not."""
        await self.deployment.workers_started()
        if self.deployment.error and self.status == "starting":
            self.status = "running"  # the scheduler runs; the error says what is missing
        self.push()

    async def close(self, force: bool = False) -> None:
        """Stop the cluster and let the host exit; unless ``force``, JobsLeft (and the cluster
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

    def arm_grace(self) -> None:
        if self._grace_timer is None and not self.connections:
            loop = asyncio.get_running_loop()
            self._grace_timer = loop.call_later(
                self.grace, lambda: asyncio.ensure_future(self.close(force=True))
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
            scheduler_address=self.deployment.scheduler_address,
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
            profile=self.spec.profile,
            scheduler_address=deployment.scheduler_address if started else None,
            dashboard_link=deployment.dashboard_link if started else None,
            requested_workers=requested,
            processes=deployment.processes(),
            adapt={"minimum": self.adapt.minimum, "maximum": self.adapt.maximum}
            if self.adapt
            else None,
            started=self.started,
            error=self.error or (deployment.error if started else None),
            jobs=deployment.jobs() if started else None,
            recording=self.recording[0] if self.recording else None,
            memory_restarts=self.memory_restarts() - self.restarts_before_reset,
            memory_peak_method=peak_method(workers),
        )

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
        self.disarm_grace()
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
            if scheduler is None:  # e.g. a gateway's scheduler runs elsewhere
                raise RuntimeError("resetting peaks needs the scheduler in this host")
            await scheduler.broadcast(**reset_message())
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
        scheduler = self.deployment.scheduler
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
            raise RuntimeError(self.error or "the cluster is still starting")

    async def stop_adapt(self) -> None:
        if self.adapt is not None:
            self.adapt = None
            await self.deployment.stop_adapt()


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
    parser.add_argument(
        "--preload", default="", help="modules a standby imports ahead (comma-separated)"
    )
    parser.add_argument(
        "--worker-start",
        choices=("forkserver", "spawn", ""),
        default="",
        help="multiprocessing method of LocalCluster workers ('': dask's configuration)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    dask.config.set({"distributed.dashboard.link": DIRECT_DASHBOARD_LINK})
    standby = args.spec == "-"
    if standby:
        prepare_worker_start(args.worker_start)
        preload(args.preload)
        args.spec = sys.stdin.readline()
        if not args.spec.strip():
            return  # the server let go of its standby, or went away
        log.info("standby host %s: spec received", args.id)
    line = sys.stdin.readline()
    if not line.strip():
        return  # the server went away before it said which profile
    launch = json.loads(line)
    kind = profile_kind(launch["factory"])
    if not standby and kind == LOCAL:
        prepare_worker_start(args.worker_start)
    if standby and kind in (JOBQUEUE, GATEWAY):
        internals.stop_forkserver()  # its workers run elsewhere: no use for it
    asyncio.run(ClusterHost(args, launch).run())


def preload(modules: str) -> None:
    """Import what a configured profile's cluster will need (best effort)."""
    import importlib

    for module in filter(None, modules.split(",")):
        try:
            importlib.import_module(module)
        except Exception as exc:  # the cluster that needs it will say why
            log.warning("standby host: cannot preload %s: %s", module, exc)


if __name__ == "__main__":
    main()
