"""A cluster host: one process per cluster, outside the Jupyter server's event loop.

``python -m clustercraft.server.host --id ID --runtime-dir DIR --socket PATH --spec JSON``
runs the cluster of one profile (see deploy.py: a LocalCluster, a job queue's, a Dask
Gateway's), or watches a scheduler started elsewhere (``{"origin": "address"}``, see
watched.py), and serves it on a Unix-domain socket with service.py's JSON-lines protocol.

The profile (``{"name", "factory", "kwargs"}``) comes as one JSON line on stdin, never on the
command line: its kwargs may hold a gateway's password. With ``--spec -`` the host is a
standby, started ahead of need by a server whose panel is open: it imports distributed and the
modules of ``--preload`` (the configured profiles' dask_jobqueue, dask_gateway) and warms its
worker start (a forkserver with distributed, numpy and pandas imported, when ``--worker-start
forkserver``; stopped again when the profile is not local), then waits for its spec and its
profile, one line each, on stdin; end of input (the server went away) makes it exit.

Nobody connected for ``--grace`` seconds (the server died and did not come back): the
host closes its cluster (or lets go of a watched scheduler, which keeps running) and exits.
It writes ``<id>.json`` next to the socket so a restarted server can find it again (see
hoststate.py). The server that launched the host (``--owner``) holds it from the start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from typing import Any

import dask
from distributed.diagnostics.plugin import SchedulerPlugin

from clustercraft.profiles import GATEWAY, JOBQUEUE, LOCAL, profile_kind
from clustercraft.runtime import remove_credentials, write_credentials
from clustercraft.server import internals
from clustercraft.server.deploy import make_deployment, reason
from clustercraft.server.hoststate import PANEL
from clustercraft.server.service import ClusterService
from clustercraft.server.spec import ClusterSpec
from clustercraft.worker_peak import plugin_registration

log = logging.getLogger("clustercraft.host")

# The server proxies the dashboard from the address reported here; a hub's link template
# (e.g. "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status") would hide where it really is.
DIRECT_DASHBOARD_LINK = "{scheme}://{host}:{port}/status"


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


class ClusterHost(ClusterService):
    """A host process: launches its profile's cluster (or watches a scheduler for an
    address) and serves it; closes it when no server came back within the grace time."""

    def __init__(self, args: argparse.Namespace, launch: dict[str, Any]) -> None:
        spec = ClusterSpec.from_json(json.loads(args.spec))
        state_path = os.path.join(args.runtime_dir, f"{args.id}.json")
        super().__init__(args.id, spec, args.socket, state_path, owner=args.owner)
        self.origin = launch.get("origin", PANEL)
        self.grace: float = args.grace
        self.runtime_dir: str = args.runtime_dir
        self.deployment = make_deployment(launch, self.spec, self.push)
        self.tls = bool(launch.get("tls"))  # credentials are written when the cluster starts
        self._grace_timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        await self.listen()
        self.arm_grace()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(self.expire()))
        self._starting = asyncio.ensure_future(self.start_cluster())
        try:
            await self.closed.wait()
        finally:
            self._starting.cancel()
            await self.shut()
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

    async def expire(self) -> None:
        """No server came back, or a signal: close the cluster, or let go of one started
        elsewhere (a scheduler adopted by address keeps running)."""
        if self.deployment.started_here:
            await self.close(force=True)
        else:
            await self.forget()

    def snapshot(self) -> dict[str, Any]:
        cluster = super().snapshot()
        watched = not self.deployment.started_here
        if watched and cluster["status"] == "running" and self.deployment.read_error:
            cluster["status"] = "lost"  # the scheduler stopped answering (running again if it does)
        return cluster

    def connected(self) -> None:
        self.disarm_grace()

    def disconnected(self) -> None:
        self.arm_grace()

    def arm_grace(self) -> None:
        if self._grace_timer is None and not self.connections:
            loop = asyncio.get_running_loop()
            self._grace_timer = loop.call_later(
                self.grace, lambda: asyncio.ensure_future(self.expire())
            )

    def disarm_grace(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer.cancel()
            self._grace_timer = None


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
    kind = profile_kind(launch.get("factory", ""))
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
