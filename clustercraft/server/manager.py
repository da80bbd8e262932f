"""The cluster manager: launches cluster hosts and talks to them over Unix sockets.

Every cluster runs in its own host process (see host.py); the manager only holds the
latest state each host pushed and forwards it to subscribers, so a busy scheduler never
blocks the Jupyter server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import psutil
from dask.utils import parse_bytes
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import Bool, Dict, Enum, Float, Int, Unicode, Union, default
from traitlets.config import LoggingConfigurable

from clustercraft.schema import (
    LOCAL_CLUSTER,
    Adapt,
    ClusterSpec,
    Defaults,
    Limits,
    check_factory_fields,
    factory_fields,
    import_factory,
    validate_cluster_spec,
    validate_patch,
)

Listener = Callable[[dict[str, Any]], None]
HOST_MODULE = "clustercraft.server.host"
STANDBY_REFILL_DELAY = 0.5  # seconds between checks that no cluster is starting
STANDBY_REFILL_CHECKS = 60
STANDBY_EXIT_TIMEOUT = 5.0  # seconds a stopped standby gets before SIGKILL
# sun_path holds 108 bytes; longer runtime paths get their sockets in a short private dir.
MAX_SOCKET_PATH = 100
READ_LIMIT = 64 * 2**20  # one state line of a 1,000-worker cluster is well under this


class UnknownCluster(LookupError):
    """No cluster has this id (404)."""


class NameInUse(ValueError):
    """Another cluster already has this name (409)."""


class ClusterUnavailable(RuntimeError):
    """The cluster cannot do this now: still starting, closing or lost (409)."""


@dataclass
class HostRecord:
    """What the server knows about one cluster host."""

    id: str
    name: str
    spec: ClusterSpec
    socket_path: str
    started: float
    pid: int | None = None
    process: subprocess.Popen | None = None  # None when reattached: not our child
    cluster: dict[str, Any] | None = None  # latest state pushed by the host
    status: str | None = None  # overrides the host's: "closing" or "lost"
    writer: asyncio.StreamWriter | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    pending: dict[int, asyncio.Future] = field(default_factory=dict)
    next_request: int = 0
    task: asyncio.Task | None = None

    def to_json(self) -> dict[str, Any]:
        cluster = dict(self.cluster) if self.cluster else self.placeholder()
        if self.status:
            cluster["status"] = self.status
        return cluster

    def placeholder(self) -> dict[str, Any]:
        adapt = self.spec.adapt
        return {
            "id": self.id,
            "name": self.name,
            "status": "starting",
            "scheduler_address": None,
            "dashboard_link": None,
            "n_workers": 0,
            "requested_workers": self.spec.n_workers,
            "total_threads": 0,
            "total_memory": 0,
            "memory_used": 0,
            "processes": self.spec.processes,
            "adapt": {"minimum": adapt.minimum, "maximum": adapt.maximum} if adapt else None,
            "started": self.started,
            "error": None,
            "workers": [],
        }


class ClusterManager(LoggingConfigurable):
    """Launches, watches, scales and stops clusters, each in its own host process."""

    runtime_dir = Unicode(help="Where host sockets and state files live.").tag(config=True)

    @default("runtime_dir")
    def _default_runtime_dir(self) -> str:
        return os.path.join(jupyter_runtime_dir(), "clustercraft")

    default_n_workers = Int(2, help="Workers of a new cluster.").tag(config=True)
    default_threads_per_worker = Int(1, help="Threads per worker of a new cluster.").tag(
        config=True
    )
    default_memory_limit = Union(
        [Int(), Unicode()],
        default_value="auto",
        help='Memory per worker of a new cluster ("4 GiB", bytes, or "auto" for dask\'s share).',
    ).tag(config=True)
    default_processes = Bool(True, help="Workers in their own processes (with nannies).").tag(
        config=True
    )
    max_workers = Int(help="Most workers one cluster may ask for.").tag(config=True)

    @default("max_workers")
    def _default_max_workers(self) -> int:
        return max(8, 4 * (os.cpu_count() or 1))

    max_threads_per_worker = Int(help="Most threads per worker.").tag(config=True)

    @default("max_threads_per_worker")
    def _default_max_threads(self) -> int:
        return 2 * (os.cpu_count() or 1)

    max_memory_per_worker = Union(
        [Int(), Unicode()], default_value="", help="Most memory per worker; empty: no limit."
    ).tag(config=True)
    max_total_memory = Union(
        [Int(), Unicode()],
        default_value="",
        help="Most memory (workers x memory_limit) per cluster; empty: the machine's memory.",
    ).tag(config=True)
    cluster_factory = Unicode(
        LOCAL_CLUSTER,
        help="Class path of the cluster to run in each host (server configuration only).",
    ).tag(config=True)
    cluster_factory_kwargs = Dict(help="Keyword arguments for cluster_factory.").tag(config=True)
    standby_host = Bool(
        True,
        help="While a panel is subscribed, keep one host process started ahead (Python, "
        "distributed and the worker start warmed), so New cluster skips that.",
    ).tag(config=True)
    worker_start = Enum(
        ["auto", "forkserver", "spawn", ""],
        default_value="auto",
        help="How LocalCluster hosts start worker processes: 'forkserver' forks them from a "
        "server with distributed, numpy and pandas imported once (warmed while a standby "
        "waits); 'spawn' is dask's default; '' leaves distributed.worker.multiprocessing-"
        "method to dask's configuration; 'auto': 'forkserver' in standby hosts, '' in hosts "
        "started on demand (warming there would cost more than it saves).",
    ).tag(config=True)
    grace_period = Float(
        60.0, help="Seconds a host waits for a restarted server before closing itself."
    ).tag(config=True)
    start_timeout = Float(30.0, help="Seconds to wait for a new host's socket.").tag(config=True)
    request_timeout = Float(30.0, help="Seconds to wait for a host to answer.").tag(config=True)
    close_timeout = Float(20.0, help="Seconds a closing host gets before it is killed.").tag(
        config=True
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.records: dict[str, HostRecord] = {}
        self.listeners: set[Listener] = set()
        self._standby: tuple[str, subprocess.Popen] | None = None  # (cluster id, process)
        self._refill: asyncio.Task | None = None

    # ------------------------------------------------------------ configuration

    @property
    def limits(self) -> Limits:
        return Limits(
            max_workers=self.max_workers,
            max_threads_per_worker=self.max_threads_per_worker,
            max_memory_per_worker=_bytes_or_none(self.max_memory_per_worker),
            max_total_memory=_bytes_or_none(self.max_total_memory) or psutil.virtual_memory().total,
        )

    @property
    def defaults(self) -> Defaults:
        memory = self.default_memory_limit
        return Defaults(
            n_workers=self.default_n_workers,
            threads_per_worker=self.default_threads_per_worker,
            memory_limit=None if memory in ("auto", "", None) else parse_bytes(memory),
            processes=self.default_processes,
        )

    def validate_spec(self, body: Any) -> ClusterSpec:
        spec = validate_cluster_spec(body, self.limits, self.defaults)
        if self.cluster_factory != LOCAL_CLUSTER:
            check_factory_fields(body, self.cluster_factory, self._factory_fields)
        return spec

    @cached_property
    def _factory_fields(self) -> tuple[str, ...]:
        # Server configuration, imported once, only to read its signature.
        try:
            return factory_fields(import_factory(self.cluster_factory))
        except Exception:
            self.log.exception("clustercraft: cannot import %s", self.cluster_factory)
            return ()

    # ------------------------------------------------------------ public API

    async def list(self) -> list[dict[str, Any]]:
        """Every cluster, with fresh worker rows from the hosts that answer quickly."""
        records = list(self.records.values())
        await asyncio.gather(*(self._refresh(record) for record in records))
        return [record.to_json() for record in records]

    async def get(self, cluster_id: str) -> dict[str, Any]:
        record = self._record(cluster_id)
        await self._refresh(record)
        return record.to_json()

    async def create(self, spec: ClusterSpec) -> dict[str, Any]:
        name = spec.name or self._default_name()
        if any(record.name == name for record in self.records.values()):
            raise NameInUse(f"a cluster named {name!r} already exists")
        spec = ClusterSpec.from_json({**spec.to_json(), "name": name})
        standby = self._take_standby(spec)
        cluster_id = standby[0] if standby else secrets.token_hex(4)
        record = HostRecord(
            cluster_id, name, spec, self._socket_path(cluster_id), started=time.time()
        )
        self.records[cluster_id] = record
        record.process = standby[1] if standby else self._spawn_host(cluster_id, spec)
        record.pid = record.process.pid
        record.task = asyncio.ensure_future(self._run_connection(record))
        self._notify(record)
        return record.to_json()

    async def scale(self, cluster_id: str, body: Any) -> dict[str, Any]:
        record = self._record(cluster_id)
        request = validate_patch(body, self.limits, record.spec.memory_limit)
        if hasattr(request, "n_workers"):
            return await self._request(record, "scale", n=request.n_workers)
        adapt: Adapt | None = request.adapt
        if adapt is None:
            return await self._request(record, "adapt", minimum=None)
        return await self._request(record, "adapt", minimum=adapt.minimum, maximum=adapt.maximum)

    async def reset_peaks(self, cluster_id: str) -> dict[str, Any]:
        """Start every worker's peak memory, and the memory-restart count, afresh."""
        return await self._request(self._record(cluster_id), "reset_peaks")

    async def delete(self, cluster_id: str) -> None:
        """Close the cluster; return once the host and all its processes are gone."""
        record = self._record(cluster_id)
        record.status = "closing"
        self._notify(record)
        processes = _process_tree(record.pid)
        if record.writer is not None:
            with contextlib.suppress(Exception):
                await self._request(record, "close", timeout=self.close_timeout)
        await _wait_gone(processes, self.close_timeout)
        if record.process is not None:
            record.process.poll()  # reap it, so no zombie is left
        if record.task is not None:
            record.task.cancel()
        for path in (record.socket_path, self._state_path(cluster_id)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.records.pop(cluster_id, None)
        self._broadcast({"type": "removed", "id": cluster_id})

    async def start(self) -> None:
        """Reattach to hosts a previous server left running in the runtime dir."""
        os.makedirs(self.runtime_dir, mode=0o700, exist_ok=True)
        for entry in sorted(os.listdir(self.runtime_dir)):
            if entry.endswith(".json"):
                self._reattach(os.path.join(self.runtime_dir, entry))

    async def shutdown(self) -> None:
        """Close every cluster this server controls (the server is stopping cleanly)."""
        await self._drop_standby()
        await asyncio.gather(
            *(self.delete(cluster_id) for cluster_id in list(self.records)),
            return_exceptions=True,
        )

    async def detach(self) -> None:
        """Let go of every host without closing it, as a crashing server would."""
        await self._drop_standby()  # a dying server's pipe closes, and its standby exits
        for record in self.records.values():
            if record.task is not None:
                record.task.cancel()
            if record.writer is not None:
                record.writer.close()
        self.records.clear()

    def subscribe(self, listener: Listener) -> None:
        self.listeners.add(listener)
        if len(self.listeners) == 1:
            self._watch_all(True)
        self._ensure_standby()  # someone is looking at the panel: New cluster may follow

    def unsubscribe(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        if not self.listeners:
            self._watch_all(False)

    # ------------------------------------------------------------ hosts

    def _spawn_host(self, cluster_id: str, spec: ClusterSpec | None) -> subprocess.Popen:
        """A host for ``spec``; with None, a standby that reads its spec from stdin later."""
        os.makedirs(self.runtime_dir, mode=0o700, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            HOST_MODULE,
            "--id",
            cluster_id,
            "--runtime-dir",
            self.runtime_dir,
            "--socket",
            self._socket_path(cluster_id),
            "--spec",
            "-" if spec is None else json.dumps(spec.to_json()),
            "--grace",
            str(self.grace_period),
            "--factory",
            self.cluster_factory,
            "--factory-kwargs",
            json.dumps(self.cluster_factory_kwargs),
            "--worker-start",
            self._worker_start(standby=spec is None),
        ]
        log_path = os.path.join(self.runtime_dir, f"{cluster_id}.log")
        with open(log_path, "ab") as log_file:
            # Own session: a Ctrl-C in the server's terminal must not kill clusters.
            return subprocess.Popen(
                command,
                stdin=subprocess.PIPE if spec is None else subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )

    def _reattach(self, state_path: str) -> None:
        try:
            with open(state_path) as f:
                state = json.load(f)
            cluster_id = state["id"]
            pid = int(state["pid"])
            alive = HOST_MODULE in " ".join(psutil.Process(pid).cmdline())
        except (OSError, ValueError, KeyError, psutil.Error):
            alive = False
        if not alive or not os.path.exists(state.get("socket", "")):
            self.log.info("clustercraft: removing stale host state %s", state_path)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(state_path)
            return
        if cluster_id in self.records:
            return
        record = HostRecord(
            cluster_id,
            state["name"],
            ClusterSpec.from_json(state["spec"]),
            state["socket"],
            started=state["started"],
            pid=pid,
        )
        self.records[cluster_id] = record
        record.task = asyncio.ensure_future(self._run_connection(record))
        self.log.info("clustercraft: reattached to cluster %s (%s)", record.name, cluster_id)

    async def _connect(self, record: HostRecord):
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                return await asyncio.open_unix_connection(record.socket_path, limit=READ_LIMIT)
            except (FileNotFoundError, ConnectionRefusedError):
                exited = record.process is not None and record.process.poll() is not None
                if exited or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.01)

    async def _run_connection(self, record: HostRecord) -> None:
        try:
            reader, writer = await self._connect(record)
        except OSError as exc:
            self.log.warning("clustercraft: cannot reach host of %s: %s", record.id, exc)
            record.connected.set()
            self._lost(record)
            return
        record.writer = writer
        record.connected.set()
        if self.listeners:
            self._watch(record, True)
        try:
            while line := await reader.readline():
                self._receive(record, json.loads(line))
        except (ConnectionError, ValueError) as exc:
            self.log.warning("clustercraft: connection to %s broke: %s", record.id, exc)
        finally:
            writer.close()
            record.writer = None
            for future in record.pending.values():
                if not future.done():
                    future.set_exception(ClusterUnavailable("the cluster host went away"))
            if record.status != "closing":
                self._lost(record)

    def _receive(self, record: HostRecord, message: dict[str, Any]) -> None:
        if message.get("cluster"):
            record.cluster = message["cluster"]
        request_id = message.get("req")
        future = record.pending.get(request_id) if request_id is not None else None
        if future is not None and not future.done():
            future.set_result(message)
        if message.get("event") == "cluster":
            self._notify(record)

    def _lost(self, record: HostRecord) -> None:
        if record.id in self.records and record.status != "lost":
            record.status = "lost"
            self._notify(record)

    async def _request(
        self, record: HostRecord, op: str, timeout: float | None = None, **args: Any
    ) -> dict[str, Any]:
        if record.status in ("lost", "closing") and op != "close":
            raise ClusterUnavailable(f"cluster {record.name!r} is {record.status}")
        await asyncio.wait_for(record.connected.wait(), self.start_timeout)
        if record.writer is None:
            raise ClusterUnavailable(f"cluster {record.name!r} is not reachable")
        record.next_request += 1
        request_id = record.next_request
        future = asyncio.get_running_loop().create_future()
        record.pending[request_id] = future
        record.writer.write(json.dumps({"req": request_id, "op": op, **args}).encode() + b"\n")
        try:
            reply = await asyncio.wait_for(future, timeout or self.request_timeout)
        except asyncio.TimeoutError:
            raise ClusterUnavailable(f"cluster {record.name!r} did not answer in time") from None
        finally:
            record.pending.pop(request_id, None)
        if not reply.get("ok"):
            raise ClusterUnavailable(f"cluster {record.name!r}: {reply.get('message')}")
        self._notify(record)
        return record.to_json()

    async def _refresh(self, record: HostRecord) -> None:
        # A quick fresh snapshot; a slow or missing host leaves the last known state.
        if record.writer is None or record.status:
            return
        with contextlib.suppress(ClusterUnavailable, asyncio.TimeoutError):
            await asyncio.wait_for(self._request(record, "snapshot"), 2.0)

    def _watch(self, record: HostRecord, on: bool) -> None:
        if record.writer is not None and not record.status:
            task = asyncio.ensure_future(self._request(record, "watch", on=on))
            task.add_done_callback(lambda t: t.exception())  # failures show up as "lost"

    def _watch_all(self, on: bool) -> None:
        for record in self.records.values():
            self._watch(record, on)

    # ------------------------------------------------------------ standby host

    def _worker_start(self, standby: bool) -> str:
        if self.worker_start != "auto":
            return self.worker_start
        return "forkserver" if standby else ""

    def _ensure_standby(self) -> None:
        if not self.standby_host or (self._standby and self._standby[1].poll() is None):
            return
        cluster_id = secrets.token_hex(4)  # a dead standby (reaped by poll) is just replaced
        self._standby = (cluster_id, self._spawn_host(cluster_id, None))

    def _take_standby(self, spec: ClusterSpec) -> tuple[str, subprocess.Popen] | None:
        """Hand ``spec`` to the standby host, if one is alive; refill once things are quiet."""
        standby, self._standby = self._standby, None
        if standby is None:
            return None
        process = standby[1]
        try:
            process.stdin.write(json.dumps(spec.to_json()).encode() + b"\n")
            process.stdin.close()
        except (OSError, ValueError):  # it died: start cold
            process.kill()
            process.wait()
            return None
        if self._refill is None or self._refill.done():
            self._refill = asyncio.ensure_future(self._refill_standby())
        return standby

    async def _refill_standby(self) -> None:
        # Not while a cluster starts: on a small machine the two would share the cores.
        for _ in range(STANDBY_REFILL_CHECKS):
            await asyncio.sleep(STANDBY_REFILL_DELAY)
            if not any(r.to_json()["status"] == "starting" for r in self.records.values()):
                break
        if self.listeners:
            self._ensure_standby()

    async def _drop_standby(self) -> None:
        if self._refill is not None:
            self._refill.cancel()
        standby, self._standby = self._standby, None
        if standby is None:
            return
        cluster_id, process = standby
        # It runs no cluster yet: stop it and its forkserver at once, and see them gone.
        tree = _process_tree(process.pid)
        with contextlib.suppress(OSError, ValueError):
            process.stdin.close()
        for member in tree:
            with contextlib.suppress(psutil.Error):
                member.terminate()
        await _wait_gone(tree, STANDBY_EXIT_TIMEOUT)
        process.poll()  # reap it, so no zombie is left
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.runtime_dir, f"{cluster_id}.log"))

    # ------------------------------------------------------------ subscribers

    def _notify(self, record: HostRecord) -> None:
        if record.id in self.records:
            self._broadcast({"type": "cluster", "cluster": record.to_json()})

    def _broadcast(self, message: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            try:
                listener(message)
            except Exception:
                self.log.exception("clustercraft: a subscriber failed")

    # ------------------------------------------------------------ helpers

    def _record(self, cluster_id: str) -> HostRecord:
        try:
            return self.records[cluster_id]
        except KeyError:
            raise UnknownCluster(f"no cluster with id {cluster_id!r}") from None

    def _default_name(self) -> str:
        names = {record.name for record in self.records.values()}
        number = 1
        while f"cluster-{number}" in names:
            number += 1
        return f"cluster-{number}"

    def _state_path(self, cluster_id: str) -> str:
        return os.path.join(self.runtime_dir, f"{cluster_id}.json")

    def _socket_path(self, cluster_id: str) -> str:
        path = os.path.join(self.runtime_dir, f"{cluster_id}.sock")
        if len(path.encode()) <= MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha1(self.runtime_dir.encode()).hexdigest()[:12]
        short_dir = os.path.join(tempfile.gettempdir(), f"clustercraft-{os.getuid()}-{digest}")
        os.makedirs(short_dir, mode=0o700, exist_ok=True)
        return os.path.join(short_dir, f"{cluster_id}.sock")


def _bytes_or_none(value: int | str) -> int | None:
    if value in ("", None):
        return None
    return parse_bytes(value) if isinstance(value, str) else int(value)


def _process_tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    try:
        host = psutil.Process(pid)
        return [host, *host.children(recursive=True)]
    except psutil.Error:
        return []


async def _wait_gone(processes: list[psutil.Process], timeout: float) -> None:
    """Wait for the processes to exit; kill whatever is left after ``timeout``."""
    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        _, alive = psutil.wait_procs(alive, timeout=0)
        alive = [p for p in alive if _running(p)]
        if alive:
            await asyncio.sleep(0.02)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    if alive:
        await asyncio.to_thread(psutil.wait_procs, alive, 5)


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
