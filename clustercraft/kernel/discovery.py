"""Every Dask cluster made in this process, listed in the Dask clusters panel.

``%load_ext clustercraft`` (or ``clustercraft.publish_clusters()`` in any Python process)
starts a daemon thread with an asyncio loop of its own. Once a second it looks for the
process's live clusters (``internals.live_cluster_objects``: LocalCluster and every other
SpecCluster such as dask-jobqueue's, the implicit cluster of ``Client()``, GatewayCluster, the
``cluster`` of every Client) and serves each with service.py's protocol, the one cluster hosts
speak, on a Unix socket in the runtime dir (``$CLUSTERCRAFT_RUNTIME_DIR``, else
``<jupyter runtime dir>/clustercraft``), beside a state file with ``origin: "kernel"`` and
``kernel: {id, pid, notebook}``. Every Jupyter server of this user on that runtime dir finds
it there, whether or not it started this kernel, browser open or not.

The cluster is read on its own event loop (its IO-loop thread, or the kernel's loop for an
asynchronous one), once a second; scale and adapt run there too, and close from a worker
thread as the notebook's own ``cluster.close()`` would. A cluster that closes, or is
garbage-collected, leaves the list: its socket and state file go first, then its connections.
The kernel id is read from the connection file's name (``kernel-<id>.json``), the notebook
from ``JPY_SESSION_NAME``, which jupyter_server sets for the kernels of its sessions (the
path at kernel start: a notebook renamed since shows its old name).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import re
import secrets
import sys
import threading
import weakref
from typing import Any

from clustercraft.runtime import runtime_dir

log = logging.getLogger("clustercraft.discovery")

DISCOVER_INTERVAL = 1.0  # seconds between looks for new and closed clusters
CLOSE_TIMEOUT = 60.0  # seconds a cluster's close may take
OP_TIMEOUT = 10.0  # seconds scale or adapt may wait for the cluster's loop

_discovery: ClusterDiscovery | None = None
_lock = threading.Lock()


def publish_clusters(directory: str | None = None) -> ClusterDiscovery:
    """List this process's Dask clusters in the Dask clusters panel from now on (idempotent;
    ``%load_ext clustercraft`` calls it); ``directory``: the runtime dir, by default
    ``$CLUSTERCRAFT_RUNTIME_DIR`` or the Jupyter runtime dir's ``clustercraft``."""
    global _discovery
    with _lock:
        if _discovery is None:
            _discovery = ClusterDiscovery(directory)
            _discovery.start()
        return _discovery


def stop_publishing() -> None:
    """Stop listing this process's clusters; they keep running."""
    global _discovery
    with _lock:
        discovery, _discovery = _discovery, None
    if discovery is not None:
        discovery.stop()


def kernel_identity() -> dict[str, Any]:
    """``{id, pid, notebook}`` of this process (id and notebook None outside a kernel)."""
    kernel_id = None
    kernelapp = sys.modules.get("ipykernel.kernelapp")
    if kernelapp is not None and kernelapp.IPKernelApp.initialized():
        connection_file = kernelapp.IPKernelApp.instance().connection_file
        match = re.fullmatch(r"kernel-(.+)\.json", os.path.basename(connection_file or ""))
        kernel_id = match.group(1) if match else None
    notebook = os.environ.get("JPY_SESSION_NAME") or None
    return {"id": kernel_id, "pid": os.getpid(), "notebook": notebook}


class ClusterDiscovery:
    """The thread that finds this process's clusters and serves each while it runs."""

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory  # None: runtime.py's, read when a cluster is first served
        self.kernel = kernel_identity()
        # id(cluster) -> (the cluster, weakly; its service; the task serving it)
        self.services: dict[int, tuple[weakref.ref, Any, asyncio.Task]] = {}
        self.failed: dict[int, weakref.ref] = {}  # clusters that could not be served
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._short_dir: str | None = None

    def start(self) -> None:
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(ready,), name="clustercraft-discovery", daemon=True
        )
        self.thread.start()
        ready.wait(10)
        atexit.register(self.remove_files)

    def stop(self, timeout: float = 10.0) -> None:
        atexit.unregister(self.remove_files)
        if self.loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended
                self.loop.call_soon_threadsafe(self._stopping.set)
        if self.thread is not None:
            self.thread.join(timeout)

    def remove_files(self) -> None:
        """At exit: nothing left for a server to find (the connections close with us)."""
        for _, service, _ in list(self.services.values()):
            for path in (service.socket_path, service.state_path):
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def _run(self, ready: threading.Event) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self._stopping = asyncio.Event()
        ready.set()
        try:
            self.loop.run_until_complete(self.main())
        finally:
            self.loop.close()

    async def main(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    await self.discover()
                except Exception:
                    log.exception("clustercraft: looking for clusters failed")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), DISCOVER_INTERVAL)
        finally:
            await asyncio.gather(*(self.end(key) for key in list(self.services)))

    async def discover(self) -> None:
        """Serve every running cluster not yet served; end the service of every other."""
        running = {id(c): c for c in _live_clusters() if status_name(c) == "running"}
        for key, (ref, service, task) in list(self.services.items()):
            cluster = ref()
            if task.done():
                await self.end(key)
                if not task.cancelled() and task.exception() and cluster is not None:
                    log.warning("clustercraft: cannot list %s: %s", service.name, task.exception())
                    self.failed[key] = ref
            elif running.get(key) is not cluster and service.status != "closing":
                await self.end(key)  # closed in the kernel (not by a request being served)
        self.failed = {key: ref for key, ref in self.failed.items() if ref() is running.get(key)}
        for key, cluster in running.items():
            if key not in self.services and key not in self.failed:
                self.begin(key, cluster)

    def begin(self, key: int, cluster: Any) -> None:
        from clustercraft.server.hoststate import private_temp_dir, require_private_dir

        directory = self.directory or runtime_dir()
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            require_private_dir(directory)
        except OSError as exc:
            log.warning("clustercraft: not listing clusters in %s: %s", directory, exc)
            self.failed[key] = weakref.ref(cluster)
            return

        def short_dir() -> str:
            if self._short_dir is None:
                self._short_dir = private_temp_dir()
            return self._short_dir

        # It imports distributed's own modules: loaded here, once a cluster exists.
        from .kernel_cluster import KernelClusterService

        service = KernelClusterService(
            cluster, secrets.token_hex(4), directory, self.kernel, short_dir
        )
        task = asyncio.ensure_future(service.run())
        self.services[key] = (weakref.ref(cluster), service, task)

    async def end(self, key: int) -> None:
        _, service, task = self.services.pop(key)
        service.closed.set()
        with contextlib.suppress(BaseException):
            await task


def status_name(cluster: Any) -> str:
    """``running``, ``closing``, ...: distributed's Status enum or dask-gateway's string."""
    status = getattr(cluster, "status", None)
    return str(getattr(status, "name", status))


def _live_clusters() -> list[Any]:
    # Imports nothing of distributed: without it there is no cluster, and the notebook may be
    # importing it right now.
    from clustercraft.server import internals

    try:
        return internals.live_cluster_objects()
    except RuntimeError:  # a WeakSet changed while we read it: look again next time
        return []
