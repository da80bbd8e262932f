"""The cluster manager: launches cluster hosts, adopts orphaned ones, and serves their state.

Every cluster runs in its own host process (see host.py); the manager only holds the
latest state each host pushed and forwards it to subscribers, so a busy scheduler never
blocks the Jupyter server's event loop. Talking to a host is connection.py's job, keeping a
host warm is standby.py's, and what may be in a host's state file is hoststate.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

import psutil
from traitlets import TraitError

from clustercraft.profiles import LOCAL
from clustercraft.runtime import (
    PROFILES_FILE,
    credential_paths,
    write_json_atomically,
)

from .adoption import Adoption
from .config import ManagerConfig
from .connection import ClusterUnavailable, HostConnection
from .health import ANSWER_TIMEOUT, SILENCE, loss_reason, silence_reason
from .hoststate import (
    ADDRESS,
    HOST_MODULE,
    KERNEL,
    MAX_SOCKET_PATH,  # noqa: F401 (tests read it here)
    PANEL,
    BadState,
    checked_cluster,
    host_tree,
    private_temp_dir,
    read_state,
    require_private_dir,
    socket_path,
    wait_gone,
)
from .record import DASHBOARD_PATH, HostRecord  # noqa: F401 (routes read DASHBOARD_PATH here)
from .spec import Adapt, ClusterSpec, SpecError, validate_cluster_spec, validate_patch
from .standby import StandbyPool

Listener = Callable[[dict[str, Any]], None]
ATTACH_WAIT_ON_DELETE = 3.0  # seconds a starting host gets to answer a DELETE
QUEUE_COMMAND_TIMEOUT = 60.0  # seconds; jobqueue.py's COMMAND_TIMEOUT, per command


class UnknownCluster(LookupError):
    """No cluster has this id (404)."""


class NameInUse(ValueError):
    """Another cluster already has this name (409)."""

    field = "name"


class CannotLaunch(RuntimeError):
    """The server cannot start a host now, e.g. its runtime dir is not writable (503)."""


class JobsLeft(ClusterUnavailable):
    """The host could not stop every job of the cluster; it keeps running (409)."""


class ClusterManager(Adoption, ManagerConfig):
    """Launches, watches, scales and stops clusters, each in its own host process; lists
    kernels' clusters and schedulers adopted by address beside them (adoption.py)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The notebook a kernel of this server runs for (set by the extension app).
        self.notebook_of: Callable[[str], str | None] = lambda kernel_id: None
        try:  # a configuration mistake stops the extension here, saying what it is
            profiles = self.profile_table
        except ValueError as exc:
            raise TraitError(f"ClusterManager.profiles: {exc}") from None
        if self.default_profile not in profiles:
            raise TraitError(
                f"ClusterManager.default_profile {self.default_profile!r} is not a profile; "
                f"configured: {', '.join(profiles)}"
            )
        self.server_id = secrets.token_hex(8)  # whom the hosts this server holds belong to
        self.records: dict[str, HostRecord] = {}
        self.listeners: set[Listener] = set()
        self._adopting: set[str] = set()
        self._reported: set[str] = set()  # state files already logged as unusable
        self._scanner: asyncio.Task | None = None
        self.standby = StandbyPool(
            spawn=lambda cluster_id: self._spawn_host(cluster_id, None, None),
            wanted=lambda: bool(self.listeners) and self.standby_host,
            busy=lambda: any(r.to_json()["status"] == "starting" for r in self.records.values()),
            forget=lambda cluster_id: self._remove_files(cluster_id, log=True),
        )

    def validate_spec(self, body: Any) -> ClusterSpec:
        return validate_cluster_spec(body, self.profile_table, self.limits, self.default_profile)

    # ------------------------------------------------------------ public API

    async def list(self) -> list[dict[str, Any]]:
        """Every cluster, with fresh worker rows from the hosts that answer quickly."""
        records = list(self.records.values())
        await asyncio.gather(*(self._refresh(record) for record in records))
        return [record.to_json() for record in records]

    def list_profiles(self) -> list[dict[str, Any]]:
        """GET /profiles: each profile's name, title, factory, kind and fields (never its
        kwargs); the default profile first."""
        profiles = self.profile_table
        first = profiles.pop(self.default_profile)
        return [profile.to_json() for profile in (first, *profiles.values())]

    async def get(self, cluster_id: str) -> dict[str, Any]:
        record = self._record(cluster_id)
        await self._refresh(record)
        return record.to_json()

    def dashboard_address(self, cluster_id: str) -> str | None:
        """A known cluster's dashboard URL as its host reported it (None while it has none).

        Only the server's dashboard proxy uses it; cluster objects carry the proxied link.
        """
        return (self._record(cluster_id).cluster or {}).get("dashboard_link")

    async def create(self, body: Any) -> dict[str, Any]:
        """Launch the cluster a POST body asks for (SpecError naming a bad field first), or
        with ``{"address"}``, list a scheduler started elsewhere."""
        if isinstance(body, dict) and "address" in body:
            return await self.adopt_address(body)
        spec = self.validate_spec(body)
        name = spec.name or self._default_name()
        if any(record.name == name for record in self.records.values()):
            raise NameInUse(f"a cluster named {name!r} already exists")
        spec = dataclasses.replace(spec, name=name)
        profile = self.profile_table[spec.profile]
        launch = {**profile.launch(), "tls": self.tls and profile.kind == LOCAL}
        standby = self.standby.take(spec.to_json(), launch) if self.standby_host else None
        cluster_id = standby[0] if standby else secrets.token_hex(4)
        try:
            socket_path = self._socket_path(cluster_id)
            process = standby[1] if standby else self._spawn_host(cluster_id, spec, launch)
        except OSError as exc:  # nothing is listed: no ghost blocks the name
            raise CannotLaunch(f"cannot start a cluster host: {exc}") from None
        record = HostRecord(
            cluster_id, name, spec, socket_path, started=time.time(), base_url=self.base_url
        )
        self.records[cluster_id] = record
        record.process = process
        record.pid = process.pid
        with contextlib.suppress(psutil.Error):  # our child, not yet reaped: the pid is its own
            record.create_time = psutil.Process(record.pid).create_time()
        record.task = asyncio.ensure_future(self._run_launched(record))
        self._notify(record)
        return record.to_json()

    async def scale(self, cluster_id: str, body: Any) -> dict[str, Any]:
        record = self._record(cluster_id)
        if record.origin == ADDRESS:
            raise ClusterUnavailable(
                f"cluster {record.name!r} was started elsewhere: clustercraft lists it, forgets "
                "it or shuts it down, but does not scale it"
            )
        # None: a kernel's cluster, or a profile configured away since
        profile = self.profile_table.get(record.spec.profile) if record.origin == PANEL else None
        local = profile is not None and profile.kind == LOCAL
        workers = profile.field("n_workers") if profile is not None else None
        request = validate_patch(
            body,
            self.limits,
            memory_limit=self._memory_per_worker(record) if local else None,
            max_workers=workers.maximum if workers is not None else None,
        )
        if hasattr(request, "n_workers"):
            return await self._request(record, "scale", n=request.n_workers)
        adapt: Adapt | None = request.adapt
        if adapt is None:
            return await self._request(record, "adapt", minimum=None)
        return await self._request(record, "adapt", minimum=adapt.minimum, maximum=adapt.maximum)

    async def record_report(self, cluster_id: str, body: Any) -> dict[str, Any]:
        """``{"action": "start"}`` starts a performance report; ``"stop"`` returns its HTML."""
        if not isinstance(body, dict) or body.get("action") not in ("start", "stop"):
            raise SpecError('give {"action": "start"} or {"action": "stop"}', "action")
        record = self._record(cluster_id)
        reply = await self._ask(record, "record", action=body["action"])
        return {"cluster": record.to_json(), "html": reply.get("report")}

    async def reset_peaks(self, cluster_id: str) -> dict[str, Any]:
        """Start every worker's peak memory, and the memory-restart count, afresh."""
        return await self._request(self._record(cluster_id), "reset_peaks")

    async def delete(self, cluster_id: str, forget: bool = False) -> None:
        """Close the cluster; return once the host and all its processes are gone. ``forget``:
        stop listing a scheduler adopted by address, and leave it running."""
        record = self._record(cluster_id)
        if forget:
            return await self._forget_cluster(record)
        if record.origin == KERNEL:
            return await self._close_kernel_cluster(record)
        if record.status == "lost" and self._held_elsewhere(record):
            self._forget(record)  # another server adopted the host; it is not ours to close
            return
        record.status = "closing"
        self._notify(record)
        processes = host_tree(record.pid, record.create_time, record.id)
        # A host still starting gets a moment to open its socket, then a SIGTERM (its
        # handler closes the cluster), rather than the whole close timeout.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(record.attached.wait(), ATTACH_WAIT_ON_DELETE)
        if record.connection is not None:
            try:
                await self._request(record, "close", timeout=self._close_wait(record))
            except JobsLeft:
                record.status = None  # still running, its error saying which jobs are left
                self._notify(record)
                raise
            except Exception:
                pass
        elif processes:
            with contextlib.suppress(psutil.Error):
                processes[0].terminate()
        await wait_gone(processes, self.close_timeout)
        if record.process is not None:
            record.process.poll()  # reap it, so no zombie is left
        if record.task is not None:
            record.task.cancel()
        self._remove_files(cluster_id, log=True)
        self._forget(record)

    async def start(self) -> None:
        """Adopt hosts a previous server left running, then keep adopting orphans."""
        os.makedirs(self.runtime_dir, mode=0o700, exist_ok=True)
        if os.stat(self.runtime_dir).st_uid == os.getuid():
            os.chmod(self.runtime_dir, 0o700)  # ours: close it if it was left open
        require_private_dir(self.runtime_dir)
        self._publish_profiles()
        await self._scan()
        self._scanner = asyncio.ensure_future(self._scan_loop())

    async def shutdown(self) -> None:
        """Close every cluster this server launched (the server is stopping cleanly); let go
        of kernels' clusters and of schedulers adopted by address, which keep running.

        Hosts held by other servers on the same runtime dir are never in ``records``.
        """
        self._stop_scanning()
        await self.standby.drop()
        records = list(self.records.values())
        for record in records:
            if record.origin == KERNEL:
                self._let_go(record)
        await asyncio.gather(
            *(
                self.delete(record.id, forget=record.origin == ADDRESS)
                for record in records
                if record.origin != KERNEL
            ),
            return_exceptions=True,
        )

    async def detach(self) -> None:
        """Let go of every host without closing it, as a crashing server would."""
        self._stop_scanning()
        await self.standby.drop()  # a dying server's pipe closes, and its standby exits
        for record in self.records.values():
            if record.task is not None:
                record.task.cancel()
            if record.connection is not None:
                record.connection.close()
        self.records.clear()

    def subscribe(self, listener: Listener) -> None:
        self.listeners.add(listener)
        if len(self.listeners) == 1:
            self._watch_all(True)
        if self.standby_host:
            self.standby.ensure()  # someone is looking at the panel: New cluster may follow

    def unsubscribe(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        if not self.listeners:
            self._watch_all(False)
            self.standby.idle()

    # ------------------------------------------------------------ hosts

    def _spawn_host(
        self, cluster_id: str, spec: ClusterSpec | None, launch: dict[str, Any] | None
    ) -> subprocess.Popen:
        """A host for ``spec`` on the profile ``launch``; with None, a standby that reads
        both from stdin later. The profile goes through stdin: its kwargs may be secret."""
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
            "--owner",
            self.server_id,
            "--worker-start",
            self._worker_start(standby=spec is None),
            "--preload",
            ",".join(self._preload() if spec is None else ()),
        ]
        with open(self._log_path(cluster_id), "ab") as log_file:
            # Own session: a Ctrl-C in the server's terminal must not kill clusters.
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        if launch is not None:
            with contextlib.suppress(OSError):  # it died at once: it shows as lost
                process.stdin.write(json.dumps(launch).encode() + b"\n")
                process.stdin.close()
        return process

    def _close_wait(self, record: HostRecord) -> float:
        """How long a host may take to close: a queue's commands may each wait a minute for a
        controller that does not answer, and a host killed meanwhile leaves its jobs behind."""
        profile = self.profile_table.get(record.spec.profile)
        local = profile is not None and profile.kind == LOCAL
        return self.close_timeout if local else self.close_timeout + QUEUE_COMMAND_TIMEOUT

    def _preload(self) -> list[str]:
        """What a standby imports ahead for the configured profiles that are not local."""
        factories = {p.factory for p in self.profile_table.values() if p.kind != LOCAL}
        return sorted({factory.rpartition(".")[0] for factory in factories})

    def _worker_start(self, standby: bool) -> str:
        if self.worker_start != "auto":
            return self.worker_start
        return "forkserver" if standby else ""

    # ------------------------------------------------------------ host connections

    async def _attach(self, record: HostRecord, quiet: bool = False) -> bool:
        """Connect to the host and claim it; True once this server holds it."""
        try:
            record.connection, reply = await HostConnection.open(
                record.socket_path,
                self.server_id,
                self.start_timeout,
                starting=lambda: record.process is not None and record.process.poll() is None,
            )
        except (OSError, ClusterUnavailable) as exc:
            log = self.log.debug if quiet else self.log.warning
            log("clustercraft: cannot take host of %s: %s", record.id, exc)
            return False
        finally:
            record.attached.set()
        if reply.get("cluster"):
            record.cluster = checked_cluster(reply["cluster"])
        return True

    async def _run_launched(self, record: HostRecord) -> None:
        if await self._attach(record):
            await self._serve(record)
        else:
            self._lost(record)

    async def _serve(self, record: HostRecord) -> None:
        if self.listeners:
            self._watch(record, True)
        try:
            await record.connection.serve(lambda message: self._receive(record, message))
        except (ConnectionError, ValueError) as exc:
            log = self.log.info if record.origin == KERNEL else self.log.warning  # a kernel ends
            log("clustercraft: connection to %s broke: %s", record.id, exc)
        finally:
            record.connection = None
            if record.origin == KERNEL:
                self._kernel_cluster_gone(record)  # closed, or its kernel died: not "lost"
            elif record.status != "closing":
                self._lost(record)

    def _receive(self, record: HostRecord, message: dict[str, Any]) -> None:
        record.heard = time.monotonic()
        if record.problem:  # it answers again
            record.problem = None
            self._notify(record)
        if message.get("cluster"):  # an event, or the reply to a request: push it either way,
            record.cluster = checked_cluster(message["cluster"])  # so the push is never behind
            self._notify(record)  # what a REST reply says (subscribers get only what changed)

    def _lost(self, record: HostRecord) -> None:
        if record.id in self.records and record.status != "lost":
            record.status = "lost"
            self._notify(record)
            asyncio.ensure_future(self._explain_loss(record))

    async def _explain_loss(self, record: HostRecord) -> None:
        """Say why, once the host's exit code is there (it may still be on its way out)."""
        for _ in range(20):
            if record.process is None or record.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        record.problem = loss_reason(record.process, self._log_path(record.id), self.runtime_dir)
        self._notify(record)

    async def _check_silent_hosts(self) -> None:
        """Ask every host that has said nothing for a while; say so when it does not answer."""

        async def ask(record: HostRecord) -> None:
            try:
                await self._ask(record, "snapshot", timeout=ANSWER_TIMEOUT)
            except (ClusterUnavailable, asyncio.TimeoutError):
                if record.status is None and record.connection is not None:
                    record.problem = silence_reason(record.heard)
                    self._notify(record)

        silent = [
            record
            for record in list(self.records.values())
            if record.status is None
            and record.connection is not None
            and time.monotonic() - record.heard > SILENCE
        ]
        await asyncio.gather(*(ask(record) for record in silent))

    async def _request(
        self, record: HostRecord, op: str, timeout: float | None = None, **args: Any
    ) -> dict[str, Any]:
        """Ask the host; the cluster object after it answered."""
        await self._ask(record, op, timeout, **args)
        return record.to_json()

    async def _ask(
        self, record: HostRecord, op: str, timeout: float | None = None, **args: Any
    ) -> dict[str, Any]:
        """Ask the host; its whole reply (ClusterUnavailable when it cannot answer)."""
        if record.status in ("lost", "closing") and op != "close":
            raise ClusterUnavailable(f"cluster {record.name!r} is {record.status}")
        await asyncio.wait_for(record.attached.wait(), self.start_timeout)
        if record.connection is None:
            raise ClusterUnavailable(f"cluster {record.name!r} is not reachable")
        try:
            reply = await record.connection.request(op, timeout or self.request_timeout, **args)
        except ClusterUnavailable as exc:
            raise ClusterUnavailable(f"cluster {record.name!r}: {exc}") from None
        if reply.get("kept"):
            raise JobsLeft(reply.get("message"))
        if not reply.get("ok"):
            raise ClusterUnavailable(f"cluster {record.name!r}: {reply.get('message')}")
        self._notify(record)
        return reply

    async def _refresh(self, record: HostRecord) -> None:
        # A quick fresh snapshot; a slow or missing host leaves the last known state.
        if record.connection is None or record.status:
            return
        with contextlib.suppress(ClusterUnavailable, asyncio.TimeoutError):
            await asyncio.wait_for(self._request(record, "snapshot"), 2.0)

    def _watch(self, record: HostRecord, on: bool) -> None:
        if record.connection is not None and not record.status:
            task = asyncio.ensure_future(self._request(record, "watch", on=on))
            task.add_done_callback(lambda t: t.exception())  # failures show up as "lost"

    def _watch_all(self, on: bool) -> None:
        for record in self.records.values():
            self._watch(record, on)

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

    def _publish_profiles(self) -> None:
        """Write what GET /profiles says to ``profiles.json`` in the runtime dir, where kernels
        (``%%peakmem --profile``) read it: same user, no server URL or token needed."""
        try:
            write_json_atomically(
                os.path.join(self.runtime_dir, PROFILES_FILE), self.list_profiles()
            )
        except OSError as exc:
            self.log.warning("clustercraft: cannot write %s: %s", PROFILES_FILE, exc)

    def _memory_per_worker(self, record: HostRecord) -> int | None:
        """The cluster's limit per worker; for "auto", what its workers really got."""
        if record.spec.options.get("memory_limit"):
            return record.spec.options["memory_limit"]
        rows = (record.cluster or {}).get("workers") or []
        return max((row.get("memory_limit") or 0 for row in rows), default=0) or None

    def _forget(self, record: HostRecord) -> None:
        if self.records.pop(record.id, None) is not None:
            self._broadcast({"type": "removed", "id": record.id})

    def _held_elsewhere(self, record: HostRecord) -> bool:
        try:
            return read_state(self._state_path(record.id)).held_by_other(self.server_id)
        except (OSError, BadState):
            return False

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

    def _remove_files(self, cluster_id: str, log: bool = False) -> None:
        """Remove what a closed host leaves in the runtime dir (its log too, when asked)."""
        paths = [
            self._socket_path(cluster_id),
            self._state_path(cluster_id),
            *credential_paths(self.runtime_dir, cluster_id),
        ]
        for path in paths + ([self._log_path(cluster_id)] if log else []):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def _state_path(self, cluster_id: str) -> str:
        return os.path.join(self.runtime_dir, f"{cluster_id}.json")

    def _log_path(self, cluster_id: str) -> str:
        return os.path.join(self.runtime_dir, f"{cluster_id}.log")

    def _socket_path(self, cluster_id: str) -> str:
        return socket_path(self.runtime_dir, cluster_id, lambda: self._short_socket_dir)

    @cached_property
    def _short_socket_dir(self) -> str:
        return private_temp_dir()  # one of its own for each server
