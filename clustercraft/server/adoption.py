"""How the manager takes on clusters it did not launch, and lets go of them.

- Hosts whose server went away: their state files in the runtime dir, once the lease lapsed.
- Clusters made in kernels (``origin: "kernel"``, kernel/discovery.py), whoever started the
  kernel: listed while they run; they leave the list (a ``removed`` event, never "lost") when
  they close or their kernel dies. A kernel is never signalled: Shut down asks it to close
  its cluster, and a clean server shutdown only lets go of them.
- Schedulers started elsewhere, adopted by address (``origin: "address"``): a host watches
  them (watched.py), so this server's loop never talks to a scheduler. Forget stops the
  host and leaves the scheduler running; Shut down terminates the scheduler.

The runtime dir is scanned once a second, so a new kernel cluster shows within about two.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from typing import Any

import psutil

from clustercraft.runtime import PROFILES_FILE

from .connection import ClusterUnavailable
from .hoststate import (
    ADDRESS,
    KERNEL,
    BadState,
    HostState,
    host_tree,
    read_state,
    require_private_dir,
    same_process,
    verified_host,
    wait_gone,
)
from .record import HostRecord
from .spec import ClusterSpec, SpecError, validate_address

SCAN_INTERVAL = 1.0  # seconds between looks for kernel clusters and orphaned hosts
ADDRESS_WAIT = 15.0  # seconds a new address host gets to start and reach its scheduler


class AlreadyListed(ValueError):
    """That scheduler is in the list already (409)."""

    field = "address"


class Adoption:
    """The part of ClusterManager that adopts and lets go (mixed into it)."""

    # ------------------------------------------------------------ the runtime dir

    async def _scan(self) -> None:
        """Adopt every host and kernel cluster in the runtime dir that no live server holds."""
        try:
            entries = sorted(os.listdir(self.runtime_dir))
        except OSError as exc:
            self.log.warning("clustercraft: cannot list %s: %s", self.runtime_dir, exc)
            return
        adoptions = []
        for entry in entries:
            cluster_id = entry.removesuffix(".json")
            if entry in (cluster_id, PROFILES_FILE):
                continue
            if cluster_id in self.records or cluster_id in self._adopting:
                continue
            state = self._adoptable(os.path.join(self.runtime_dir, entry))
            if state is not None:
                adoptions.append(self._adopt(state))
        await asyncio.gather(*adoptions)

    async def _scan_loop(self) -> None:
        while True:
            await asyncio.sleep(SCAN_INTERVAL)
            await asyncio.gather(self._scan(), self._check_silent_hosts())

    def _stop_scanning(self) -> None:
        if self._scanner is not None:
            self._scanner.cancel()
            self._scanner = None

    def _adoptable(self, path: str) -> HostState | None:
        """The state if this server may adopt it now; drop files of hosts and kernels that died."""
        try:
            state = read_state(path)
        except FileNotFoundError:
            return None  # it closed while we looked
        except (OSError, BadState) as exc:
            if path not in self._reported:  # one log line per file, not one per scan
                self._reported.add(path)
                self.log.warning("clustercraft: skipping unusable host state %s: %s", path, exc)
            return None
        if not state.on_this_machine() or state.held_by_other(self.server_id):
            return None
        if state.owner == self.server_id and state.origin != KERNEL:
            return None  # one of ours, closing
        if state.origin == KERNEL:
            alive = same_process(state.pid, state.create_time) is not None
        else:
            alive = verified_host(state.pid, state.create_time, state.id) is not None
        if not alive:
            self.log.info("clustercraft: removing state of exited %s", path)
            _remove_state(state, path)
            return None
        try:
            require_private_dir(os.path.dirname(state.socket))
        except OSError as exc:
            self.log.warning("clustercraft: not adopting %s: %s", state.id, exc)
            return None
        return state

    async def _adopt(self, state: HostState) -> None:
        """Claim a host whose server went away, or a kernel's cluster; on success it is listed."""
        record = HostRecord(
            state.id,
            state.name,
            ClusterSpec.from_json(state.spec),
            state.socket,
            started=state.started,
            pid=state.pid,
            create_time=state.create_time,
            base_url=self.base_url,
            origin=state.origin,
            kernel=state.kernel,
            notebook_of=self.notebook_of,
        )
        self._adopting.add(state.id)
        try:
            attached = await self._attach(record, quiet=True)
        finally:
            self._adopting.discard(state.id)
        if not attached:
            return  # another server was quicker, or the host is not answering
        self.records[record.id] = record
        record.task = asyncio.ensure_future(self._serve(record))
        self.log.info("clustercraft: adopted cluster %s (%s)", record.name, record.id)
        self._notify(record)

    # ------------------------------------------------------------ by address

    async def adopt_address(self, body: Any) -> dict[str, Any]:
        """List the scheduler at ``body["address"]``; SpecError naming ``address`` when no
        scheduler answers there (then nothing is listed and no process is left)."""
        from .manager import CannotLaunch

        request = validate_address(body)
        for record in self.records.values():
            address = record.spec.options.get("address") or (record.cluster or {}).get(
                "scheduler_address"
            )
            if address == request.address:
                raise AlreadyListed(f"{request.address} is listed already, as {record.name!r}")
        name = request.name or request.address
        cluster_id = secrets.token_hex(4)
        spec = ClusterSpec(name=name, n_workers=0, options={"address": request.address})
        launch = {"origin": ADDRESS, "address": request.address, "security": request.security}
        try:
            socket_path = self._socket_path(cluster_id)
            process = self._spawn_host(cluster_id, spec, launch)
        except OSError as exc:
            raise CannotLaunch(f"cannot start a host for {request.address}: {exc}") from None
        record = HostRecord(
            cluster_id, name, spec, socket_path, started=time.time(), base_url=self.base_url
        )
        record.origin, record.process, record.pid = ADDRESS, process, process.pid
        with contextlib.suppress(psutil.Error):
            record.create_time = psutil.Process(record.pid).create_time()
        self._adopting.add(cluster_id)  # not listed until it answered
        try:
            if await self._attach(record):
                record.task = asyncio.ensure_future(self._serve(record))
                with contextlib.suppress(ClusterUnavailable, asyncio.TimeoutError):
                    await self._ask(record, "started", timeout=ADDRESS_WAIT)
            cluster = record.cluster or {}
            if cluster.get("status") != "running":
                await self._stop_watching(record)
                why = (cluster.get("error") or "its host did not start").removeprefix(
                    "Cluster failed to start: "
                )
                raise SpecError(f"no Dask scheduler answers at {request.address}: {why}", "address")
        finally:
            self._adopting.discard(cluster_id)
        self.records[cluster_id] = record
        self._notify(record)
        return record.to_json()

    async def _stop_watching(self, record: HostRecord) -> None:
        """Stop the host of a scheduler adopted by address; the scheduler keeps running."""
        record.status = "closing"
        self._notify(record)  # when listed
        processes = host_tree(record.pid, record.create_time, record.id)[:1]  # the host only
        if record.connection is not None:
            with contextlib.suppress(ClusterUnavailable, asyncio.TimeoutError):
                await record.connection.request("forget", self.request_timeout)
        elif processes:
            with contextlib.suppress(psutil.Error):
                processes[0].terminate()  # its handler lets go, and never touches the scheduler
        await wait_gone(processes, self.close_timeout)
        if record.process is not None:
            record.process.poll()
        if record.task is not None:
            record.task.cancel()
        self._remove_files(record.id, log=True)
        self._forget(record)

    # ------------------------------------------------------------ letting go

    async def _forget_cluster(self, record: HostRecord) -> None:
        """DELETE ?forget=1: stop listing a scheduler adopted by address (or a lost cluster)."""
        if record.status == "lost":
            await self.delete(record.id)
        elif record.origin == ADDRESS:
            await self._stop_watching(record)
        else:
            raise ClusterUnavailable(
                f"cluster {record.name!r} was not adopted by its address: only such a scheduler "
                "can be forgotten while it runs; Shut down closes this one"
            )

    async def _close_kernel_cluster(self, record: HostRecord) -> None:
        """Shut down a kernel's cluster: the kernel closes it (its process is never signalled)."""
        record.status = "closing"
        self._notify(record)
        try:
            await self._ask(record, "close", timeout=self.close_timeout + 60.0)
        except ClusterUnavailable:
            if record.connection is not None:  # the kernel is there and could not close it
                record.status = None
                self._notify(record)
                raise
        self._kernel_cluster_gone(record)

    def _kernel_cluster_gone(self, record: HostRecord) -> None:
        """The kernel's cluster closed, or its kernel died: it leaves the list."""
        if record.task is not None:
            record.task.cancel()
        if same_process(record.pid, record.create_time) is None:  # nobody else removes them
            path = self._state_path(record.id)
            with contextlib.suppress(OSError, BadState):
                _remove_state(read_state(path), path)
        self._forget(record)

    def _let_go(self, record: HostRecord) -> None:
        """Stop listing and hold nothing: the kernel (or another server) keeps the cluster."""
        self.records.pop(record.id, None)
        if record.task is not None:
            record.task.cancel()
        if record.connection is not None:
            record.connection.close()


def _remove_state(state: HostState, path: str) -> None:
    """Remove a state file, and the socket it names when that is the cluster's own."""
    paths = [path]
    if os.path.basename(state.socket) == f"{state.id}.sock":
        paths.append(state.socket)
    for name in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
