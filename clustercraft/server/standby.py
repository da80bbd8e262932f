"""A host process started ahead of need while someone looks at the panel.

A standby host has imported Python and distributed (and warmed its worker start) and waits
for its spec and profile on stdin, so New cluster on a local profile skips all that. It is started when a panel subscribes,
handed the spec of the next new cluster, refilled once nothing is starting, and stopped a
while after the last panel went away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import subprocess
from collections.abc import Callable
from typing import Any

from .hoststate import process_tree, wait_gone

REFILL_DELAY = 0.5  # seconds between checks that no cluster is starting
REFILL_CHECKS = 60
EXIT_TIMEOUT = 5.0  # seconds a stopped standby gets before SIGKILL
IDLE_SECONDS = 30.0  # a standby nobody may need any more is stopped after this

log = logging.getLogger("clustercraft.standby")


class StandbyPool:
    def __init__(
        self,
        spawn: Callable[[str], subprocess.Popen],
        wanted: Callable[[], bool],
        busy: Callable[[], bool],
        forget: Callable[[str], None],
    ) -> None:
        """``spawn(id)`` starts a standby host; ``wanted()``: a panel is subscribed;
        ``busy()``: a cluster is starting; ``forget(id)`` removes a dropped standby's files."""
        self.spawn = spawn
        self.wanted = wanted
        self.busy = busy
        self.forget = forget
        self.host: tuple[str, subprocess.Popen] | None = None  # (cluster id, process)
        self._refill: asyncio.Task | None = None
        self._idle: asyncio.TimerHandle | None = None

    def ensure(self) -> None:
        """Have one standby ready (a dead one, reaped by poll, is just replaced)."""
        self._cancel_idle()
        if self.host is None or self.host[1].poll() is not None:
            cluster_id = secrets.token_hex(4)
            try:
                self.host = (cluster_id, self.spawn(cluster_id))
            except OSError:  # no standby; New cluster will start cold and say why it cannot
                log.warning("clustercraft: cannot start a standby host", exc_info=True)
                self.host = None

    def take(
        self, spec: dict[str, Any], launch: dict[str, Any]
    ) -> tuple[str, subprocess.Popen] | None:
        """Hand ``spec`` and its profile's ``launch`` to the standby, if one is alive; refill
        once things are quiet."""
        host, self.host = self.host, None
        if host is None:
            return None
        process = host[1]
        try:
            process.stdin.write(
                json.dumps(spec).encode() + b"\n" + json.dumps(launch).encode() + b"\n"
            )
            process.stdin.close()
        except (OSError, ValueError):  # it died: start cold
            process.kill()
            process.wait()
            return None
        if self._refill is None or self._refill.done():
            self._refill = asyncio.ensure_future(self._refill_when_quiet())
        return host

    def idle(self) -> None:
        """The last panel went away: stop the standby unless one comes back soon."""
        self._cancel_idle()
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(IDLE_SECONDS, lambda: asyncio.ensure_future(self._drop_idle()))

    async def drop(self) -> None:
        """Stop the standby (it runs no cluster yet) and see its processes gone."""
        self._cancel_idle()
        if self._refill is not None:
            self._refill.cancel()
        host, self.host = self.host, None
        if host is None:
            return
        cluster_id, process = host
        tree = process_tree(process.pid)
        with contextlib.suppress(OSError, ValueError):
            process.stdin.close()
        for member in tree:
            with contextlib.suppress(Exception):
                member.terminate()
        await wait_gone(tree, EXIT_TIMEOUT)
        process.poll()  # reap it, so no zombie is left
        self.forget(cluster_id)

    async def _drop_idle(self) -> None:
        if not self.wanted():
            await self.drop()

    async def _refill_when_quiet(self) -> None:
        # Not while a cluster starts: on a small machine the two would share the cores.
        for _ in range(REFILL_CHECKS):
            await asyncio.sleep(REFILL_DELAY)
            if not self.busy():
                break
        if self.wanted():
            self.ensure()

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
