"""One server's connection to one cluster host: JSON lines over the host's Unix socket.

The first request on every connection claims the host for this server (see host.py); after
that, requests carry a number that the host's reply repeats, and the host pushes cluster
states (``{"event": "cluster", ...}``) in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

READ_LIMIT = 64 * 2**20  # one state line of a 1,000-worker cluster is well under this
CLAIM = 0  # the request number of the claim; later requests count up from 1


class ClusterUnavailable(RuntimeError):
    """The cluster cannot do this now: still starting, closing, lost or refusing (409)."""


class HostConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.pending: dict[int, asyncio.Future] = {}
        self.next_request = CLAIM

    @classmethod
    async def open(
        cls, socket_path: str, server_id: str, timeout: float, starting: Callable[[], bool]
    ) -> tuple[HostConnection, dict[str, Any]]:
        """Connect and claim the host: the connection and the host's reply to the claim.

        While ``starting()`` says the host may still be opening its socket, keep trying for
        ``timeout`` seconds. OSError when nothing answers; ClusterUnavailable when the host
        refuses (another live server holds it).
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(socket_path, limit=READ_LIMIT)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if not starting() or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.01)
        connection = cls(reader, writer)
        connection.send({"req": CLAIM, "op": "claim", "server": server_id})
        try:
            reply = await asyncio.wait_for(connection._reply_to(CLAIM), timeout)
        except (OSError, ValueError, asyncio.TimeoutError) as exc:
            connection.close()
            raise ClusterUnavailable(f"the host did not answer the claim ({exc!r})") from None
        if not reply.get("ok"):
            connection.close()
            raise ClusterUnavailable(reply.get("message") or "the host refused the claim")
        return connection, reply

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    async def request(self, op: str, timeout: float, **args: Any) -> dict[str, Any]:
        """The host's reply to ``op``; ClusterUnavailable if it goes away or takes too long."""
        if self.writer.is_closing():
            raise ClusterUnavailable("the connection to the cluster host is closed")
        self.next_request += 1
        request_id = self.next_request
        future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        self.send({"req": request_id, "op": op, **args})
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise ClusterUnavailable("the cluster host did not answer in time") from None
        finally:
            self.pending.pop(request_id, None)

    async def serve(self, on_message: Callable[[dict[str, Any]], None]) -> None:
        """Read until the host goes away: replies settle requests, every message goes on."""
        try:
            while line := await self.reader.readline():
                message = json.loads(line)
                future = self.pending.get(message.get("req"))
                if future is not None and not future.done():
                    future.set_result(message)
                on_message(message)
        finally:
            self.close()
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ClusterUnavailable("the cluster host went away"))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    async def _reply_to(self, request_id: int) -> dict[str, Any]:
        # Before serve() runs: skip the host's pushes until the reply comes.
        while line := await self.reader.readline():
            message = json.loads(line)
            if message.get("req") == request_id:
                return message
        raise ConnectionResetError("the host closed the connection")
