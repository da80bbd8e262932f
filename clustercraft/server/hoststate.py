"""The state file a cluster host keeps in the runtime dir, and who may act on that host.

A host writes ``<id>.json`` (atomically) so that a server can find it again. The file names
the host process (pid, start time, machine) and its owner: the id of the Jupyter server that
holds it, and ``lease_until``, renewed while that server stays connected and released at once
when its connection closes. Another server on the same runtime dir adopts a host only once
the lease has lapsed, and never signals a pid whose start time and command line are not the
host's own (pids are reused).

``origin`` says where the cluster comes from: ``panel`` (a host launched it), ``address`` (a
host watches a scheduler started elsewhere) or ``kernel`` (a kernel serves a cluster made in
it, see kernel/discovery.py; then ``pid`` is the kernel's, and it is never signalled).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import psutil

from clustercraft.runtime import write_json_atomically

HOST_MODULE = "clustercraft.server.host"
LEASE_SECONDS = 15.0  # a host its owner stopped renewing for this long may be adopted
RENEW_INTERVAL = 5.0  # seconds between renewals while the owner is connected
START_TIME_TOLERANCE = 0.05  # seconds; psutil's start times are exact to the clock tick
PANEL, KERNEL, ADDRESS = "panel", "kernel", "address"  # where a cluster comes from
ORIGINS = (PANEL, KERNEL, ADDRESS)
# sun_path holds 108 bytes; longer runtime paths get their sockets in a short private dir.
MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class HostState:
    id: str
    name: str
    pid: int
    create_time: float  # the host process's start time (psutil), with pid its identity
    hostname: str
    socket: str
    started: float
    spec: dict[str, Any]
    owner: str | None  # the id of the server that holds the host
    lease_until: float  # epoch seconds; 0 once the owner let go or went away
    scheduler_address: str | None = None
    origin: str = PANEL
    kernel: dict[str, Any] | None = None  # a kernel cluster's {id, pid, notebook}

    def held_by_other(self, server_id: str, now: float | None = None) -> bool:
        """Another server holds this host, and its lease has not lapsed."""
        return self.owner != server_id and self.lease_until > (now or time.time())

    def on_this_machine(self) -> bool:
        # A runtime dir in a shared home directory is seen from several login nodes.
        return self.hostname == socket.gethostname()


class BadState(ValueError):
    """A state file that is not one a host wrote."""


def read_state(path: str) -> HostState:
    """The state at ``path``; BadState when it is malformed, OSError when unreadable."""
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except ValueError as exc:
            raise BadState(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadState("not a JSON object")
    try:
        state = HostState(
            id=_typed(data, "id", str),
            name=_typed(data, "name", str),
            pid=_typed(data, "pid", int),
            create_time=float(_typed(data, "create_time", (int, float))),
            hostname=_typed(data, "hostname", str),
            socket=_typed(data, "socket", str),
            started=float(_typed(data, "started", (int, float))),
            spec=_typed(data, "spec", dict),
            owner=data.get("owner") if isinstance(data.get("owner"), str) else None,
            lease_until=float(data.get("lease_until") or 0.0),
            scheduler_address=data.get("scheduler_address"),
            origin=data.get("origin") or PANEL,
            kernel=data.get("kernel") if isinstance(data.get("kernel"), dict) else None,
        )
    except (TypeError, ValueError) as exc:
        raise BadState(str(exc)) from None
    if os.path.basename(path) != f"{state.id}.json":
        raise BadState(f"names cluster {state.id!r}")
    if state.origin not in ORIGINS:
        raise BadState(f"unknown origin {state.origin!r}")
    return state


def write_state(path: str, state: HostState) -> None:
    """Write ``state`` atomically; no partial file is left behind when the disk is full."""
    write_json_atomically(path, asdict(state))


def require_private_dir(path: str) -> None:
    """PermissionError unless ``path`` is a real directory of ours that nobody else can use.

    Sockets and state files in it are trusted: a directory another local user owns, or may
    write to, would let them answer for a host.
    """
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise PermissionError(f"{path} is not a directory")
    if info.st_uid != os.getuid():
        raise PermissionError(f"{path} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o077:
        raise PermissionError(f"{path} is open to other users (mode {info.st_mode & 0o777:o})")


def checked_cluster(cluster: dict[str, Any]) -> dict[str, Any]:
    """A cluster object from a host, with any link that is not http(s) dropped.

    Hosts are our own processes, but their reply reaches an ``href`` in the browser.
    """
    cluster = dict(cluster)
    if not _is_web_link(cluster.get("dashboard_link")):
        cluster["dashboard_link"] = None
    workers = cluster.get("workers")
    if isinstance(workers, list) and any(not _is_web_link(w.get("dashboard")) for w in workers):
        cluster["workers"] = [
            w if _is_web_link(w.get("dashboard")) else {**w, "dashboard": None} for w in workers
        ]
    return cluster


def _is_web_link(link: Any) -> bool:
    return link is None or (isinstance(link, str) and urlsplit(link).scheme in ("http", "https"))


def verified_host(pid: int | None, create_time: float | None, cluster_id: str):
    """The host process of ``cluster_id`` at ``pid``, or None when that pid is now another.

    The pid alone is not enough: once the host exits, the system may give its pid to any
    new process. The start time and the command line must both be the host's.
    """
    process = same_process(pid, create_time)
    try:
        command = process.cmdline() if process is not None else []
    except psutil.Error:
        return None
    if HOST_MODULE not in command or cluster_id not in command:
        return None
    return process


def same_process(pid: int | None, create_time: float | None) -> psutil.Process | None:
    """The process at ``pid`` if it is still the one that started at ``create_time`` (and
    still runs: a zombie, dead but not yet reaped by its parent, is gone)."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        if (
            create_time is not None
            and abs(process.create_time() - create_time) > START_TIME_TOLERANCE
        ):
            return None
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.Error:
        return None
    return process


def socket_path(directory: str, cluster_id: str, short_dir: Callable[[], str]) -> str:
    """Where the socket of ``cluster_id`` goes: in ``directory``, or in ``short_dir()`` when
    that path would be too long for a Unix socket."""
    path = os.path.join(directory, f"{cluster_id}.sock")
    if len(path.encode()) <= MAX_SOCKET_PATH:
        return path
    return os.path.join(short_dir(), f"{cluster_id}.sock")


def private_temp_dir() -> str:
    """A new private directory, for sockets when the runtime path is too long for one.

    Its name is random (mkdtemp creates it 0700, failing if anything is there), so no
    other local user can create it first and answer for our hosts.
    """
    path = tempfile.mkdtemp(prefix=f"clustercraft-{os.getuid()}-")
    require_private_dir(path)
    return path


def host_tree(pid: int | None, create_time: float | None, cluster_id: str) -> list[psutil.Process]:
    """The verified host process and its descendants; empty when the host is gone."""
    return process_tree(verified_host(pid, create_time, cluster_id))


def _typed(data: dict[str, Any], key: str, kind) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{key!r} is missing or of the wrong type")
    return value


def process_tree(process: psutil.Process | int | None) -> list[psutil.Process]:
    """A process (or pid) and all its descendants; empty when it is gone."""
    if process is None:
        return []
    try:
        process = process if isinstance(process, psutil.Process) else psutil.Process(process)
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


async def wait_gone(processes: list[psutil.Process], timeout: float) -> None:
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
