"""REST routes and the push channel, kept thin: validation lives in spec.py, the work in manager.py."""

from __future__ import annotations

import functools
import json
from typing import Any

import tornado.web
from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import websocket

from clustercraft.schema import ARROW_STREAM_MIME, cluster_delta, worker_rows_to_arrow
from clustercraft.server.spec import SpecError

from .adoption import AlreadyListed
from .connection import ClusterUnavailable
from .dashboard import DashboardHandler
from .manager import DASHBOARD_PATH, CannotLaunch, ClusterManager, NameInUse, UnknownCluster

AUTH_RESOURCE = "clustercraft"
MANAGER_SETTING = "clustercraft_manager"

ERROR_STATUS: dict[type[Exception], int] = {
    SpecError: 400,
    UnknownCluster: 404,
    NameInUse: 409,
    AlreadyListed: 409,
    ClusterUnavailable: 409,
    CannotLaunch: 503,
}


class ClientError(tornado.web.HTTPError):
    """An HTTP error whose message (and field) is meant for the client."""

    def __init__(self, status_code: int, message: str, field: str | None = None) -> None:
        super().__init__(status_code, log_message=message)
        self.message = message
        self.field = field


def client_errors(method):
    """Turn the manager's and the schema's exceptions into 400/404/409 answers."""

    @functools.wraps(method)
    async def wrapper(self, *args, **kwargs):
        try:
            return await method(self, *args, **kwargs)
        except tuple(ERROR_STATUS) as exc:
            status = next(code for kind, code in ERROR_STATUS.items() if isinstance(exc, kind))
            raise ClientError(status, str(exc), getattr(exc, "field", None)) from None

    return wrapper


class ClusterCraftHandler(APIHandler):
    """Base handler: JSON errors with a message (and the offending field), never a traceback."""

    auth_resource = AUTH_RESOURCE

    @property
    def manager(self) -> ClusterManager:
        return self.settings[MANAGER_SETTING]

    def json_body(self) -> Any:
        try:
            return json.loads(self.request.body or b"")
        except (ValueError, UnicodeDecodeError):
            raise SpecError("the request body is not valid JSON", None) from None
        except RecursionError:
            raise SpecError("the request body is nested too deeply", None) from None

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs) -> None:
        message, field = self._reason, None
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, ClientError):
            message, field = exc.message, exc.field
        elif isinstance(exc, tornado.web.HTTPError) and exc.log_message and status_code < 500:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        self.finish(json.dumps({"message": message, "field": field}))


class ClustersHandler(ClusterCraftHandler):
    @tornado.web.authenticated
    @authorized
    @client_errors
    async def get(self) -> None:
        self.write_json(await self.manager.list())

    @tornado.web.authenticated
    @authorized
    @client_errors
    async def post(self) -> None:
        self.write_json(await self.manager.create(self.json_body()), status=201)


class ProfilesHandler(ClusterCraftHandler):
    @tornado.web.authenticated
    @authorized
    @client_errors
    async def get(self) -> None:
        self.write_json(self.manager.list_profiles())


class ClusterHandler(ClusterCraftHandler):
    @tornado.web.authenticated
    @authorized
    @client_errors
    async def get(self, cluster_id: str) -> None:
        self.write_json(await self.manager.get(cluster_id))

    @tornado.web.authenticated
    @authorized
    @client_errors
    async def patch(self, cluster_id: str) -> None:
        self.write_json(await self.manager.scale(cluster_id, self.json_body()))

    @tornado.web.authenticated
    @authorized
    @client_errors
    async def delete(self, cluster_id: str) -> None:
        # ?forget=1: stop listing a scheduler adopted by address; it keeps running.
        forget = self.get_query_argument("forget", "") in ("1", "true")
        await self.manager.delete(cluster_id, forget=forget)
        self.set_status(204)
        self.finish()


class WorkersHandler(ClusterCraftHandler):
    @tornado.web.authenticated
    @authorized
    @client_errors
    async def get(self, cluster_id: str) -> None:
        rows = (await self.manager.get(cluster_id))["workers"]
        if ARROW_STREAM_MIME in self.request.headers.get("Accept", ""):
            self.finish(worker_rows_to_arrow(rows), set_content_type=ARROW_STREAM_MIME)
        else:
            self.write_json(rows)


class PerformanceReportHandler(ClusterCraftHandler):
    @tornado.web.authenticated
    @authorized
    @client_errors
    async def post(self, cluster_id: str) -> None:
        self.write_json(await self.manager.record_report(cluster_id, self.json_body()))


class ResetPeaksHandler(ClusterCraftHandler):
    @tornado.web.authenticated
    @authorized
    @client_errors
    async def post(self, cluster_id: str) -> None:
        self.write_json(await self.manager.reset_peaks(cluster_id))


class ClusterEventsHandler(JupyterHandler, websocket.WebSocketHandler):
    """Push channel: a snapshot on connect, then what changed; connecting subscribes.

    A cluster this subscriber has not seen goes whole (``{"type": "cluster"}``); after that
    only its changed summary fields and worker rows (``{"type": "delta"}``, see
    ``cluster_delta``), so a 1,000-worker cluster does not resend every row each second.
    """

    auth_resource = AUTH_RESOURCE

    @property
    def manager(self) -> ClusterManager:
        return self.settings[MANAGER_SETTING]

    async def pre_get(self) -> None:
        user = self.current_user
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, user, "read", AUTH_RESOURCE)
        )
        if not allowed:
            raise tornado.web.HTTPError(403)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await self.pre_get()
        result = super().get(*args, **kwargs)
        if result is not None:
            await result

    async def open(self, *args: Any, **kwargs: Any) -> None:
        # Changes seen while the snapshot is gathered are held back and sent after it.
        self.backlog: list[dict[str, Any]] | None = []
        self.seen: dict[str, dict[str, Any]] = {}  # cluster id -> what this subscriber has
        self.manager.subscribe(self.send)
        clusters = await self.manager.list()
        self.seen = {cluster["id"]: cluster for cluster in clusters}
        self.write_message(json.dumps({"type": "snapshot", "clusters": clusters}))
        backlog, self.backlog = self.backlog, None
        for message in backlog or []:
            self.send(message)

    def send(self, message: dict[str, Any]) -> None:
        if self.backlog is not None:
            self.backlog.append(message)
            return
        message = self.changes(message)
        if message is None:
            return
        try:
            self.write_message(json.dumps(message))
        except websocket.WebSocketClosedError:
            self.manager.unsubscribe(self.send)

    def changes(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The message this subscriber needs: a delta against what it has, or None."""
        if message["type"] == "removed":
            self.seen.pop(message["id"], None)
            return message
        cluster = message["cluster"]
        previous = self.seen.get(cluster["id"])
        self.seen[cluster["id"]] = cluster
        return message if previous is None else cluster_delta(previous, cluster)

    def on_message(self, message: str | bytes) -> None:
        pass  # connecting is subscribing; nothing to hear from the client

    def on_close(self) -> None:
        self.manager.unsubscribe(self.send)


def route_table() -> list[tuple]:
    """Every route of the extension, relative to the server's base URL."""
    base = "/clustercraft/clusters"
    cluster_id = r"(?P<cluster_id>[^/]+)"
    return [
        (base, ClustersHandler),
        (url_path_join(base, "events"), ClusterEventsHandler),
        (url_path_join(base, cluster_id), ClusterHandler),
        (url_path_join(base, cluster_id, "workers"), WorkersHandler),
        (url_path_join(base, cluster_id, "reset-peaks"), ResetPeaksHandler),
        (url_path_join(base, cluster_id, "performance-report"), PerformanceReportHandler),
        (
            url_path_join("/", DASHBOARD_PATH, cluster_id) + r"(?P<path>/.*)?",
            DashboardHandler,
            {"manager_setting": MANAGER_SETTING, "auth_resource": AUTH_RESOURCE},
        ),
        ("/clustercraft/profiles", ProfilesHandler),
    ]
