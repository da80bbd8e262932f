"""The Dask dashboard of a cluster the manager knows, through the Jupyter server.

``{base_url}clustercraft/dashboard/{id}/{path}`` forwards HTTP (any method, the response
streamed) and the Bokeh WebSocket (``<page>/ws``, relayed both ways) to the dashboard the
cluster's host reported, behind Jupyter's own authentication and authorization (resource
"clustercraft"). Behind JupyterHub or an HPC portal only the Jupyter URL reaches the browser;
this makes the dashboard one of its pages. The Dask dashboard's pages link with relative URLs
only and Bokeh derives its WebSocket URL from the page's, so bodies pass untouched; only
redirects are mapped back under the proxy (the dashboard's ``/`` redirects to ``/status``).

Why a handler of our own rather than jupyter-server-proxy (which dask-labextension uses):

- The target comes only from the manager's record of the cluster, named by its id: the URL
  carries no host or port, so there is nothing to allow-list and nothing a request can steer.
  Installing jupyter-server-proxy also enables its ``/proxy/{port}/`` route on every server:
  any local port (on a shared login node, other users' services too) for every Jupyter user.
- Jupyter's credentials stay in Jupyter. jupyter-server-proxy forwards every request header,
  Cookie and Authorization included, and Bokeh copies a request's headers, cookies and query
  arguments into the session token it embeds in the page. Here only content-negotiation and
  caching headers pass, and ``token``/``_xsrf`` leave the query.
- No new dependency (it brings aiohttp, simpervisor and a lab extension) for what tornado,
  which the server already runs, does in this one module.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import httputil, websocket
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .manager import DASHBOARD_PATH, ClusterManager, UnknownCluster

# What the dashboard may see of a request: content negotiation and caching, nothing of
# Jupyter's (no Cookie, Authorization, X-XSRFToken, Referer, Origin, X-Forwarded-*).
FORWARDED_REQUEST_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "bokeh-session-id",
        "cache-control",
        "content-type",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "pragma",
        "range",
        "user-agent",
        "x-requested-with",
    }
)
# Hop-by-hop headers, and what the Jupyter server sets itself; a dashboard cookie would land
# on the Jupyter origin.
DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "connection",
        "date",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "server",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
JUPYTER_ARGUMENTS = frozenset({"token", "_xsrf"})  # Jupyter's credentials in a query string
PATH_SAFE = "/%:@!$&'()*+,;=~"  # kept as sent ("%": escapes stay escaped); the rest is quoted
QUERY_SAFE = PATH_SAFE + "?"
UNSENDABLE_CLOSE_CODES = frozenset({1005, 1006, 1015})  # reported locally, never on the wire
CONNECT_TIMEOUT = 10.0  # seconds
REQUEST_TIMEOUT = 300.0  # seconds for a whole HTTP response (profiles can be large)


@dataclass(frozen=True)
class DashboardTarget:
    """Where a dashboard really is, taken from its host's report and never from a request."""

    scheme: str  # "http" or "https"
    netloc: str  # "host:port"
    root: str  # the dashboard's root path, ending in "/"

    @classmethod
    def parse(cls, link: str | None) -> DashboardTarget | None:
        """The target of a reported link such as ``http://127.0.0.1:8787/status``."""
        if not link:
            return None
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        root = parts.path.removesuffix("status")
        return cls(parts.scheme, f"{host}:{port}", root if root.endswith("/") else root + "/")

    def url(self, path: str, query: str, websocket: bool = False) -> str:
        """The dashboard's URL for a path below its root; the host and port cannot change."""
        scheme = {"http": "ws", "https": "wss"}[self.scheme] if websocket else self.scheme
        url = f"{scheme}://{self.netloc}{self.root}{path}" + (f"?{query}" if query else "")
        if urlsplit(url).netloc != self.netloc:  # unreachable with quoted parts; stays so
            raise tornado.web.HTTPError(400, "bad dashboard path")
        return url

    def proxied_location(self, location: str, proxy_root: str) -> str:
        """A redirect's Location, mapped under the proxy when it points into the dashboard."""
        parts = urlsplit(location)
        same_server = parts.scheme in ("http", "https") and parts.netloc.lower() == self.netloc
        if not (same_server or (not parts.netloc and location.startswith("/"))):
            return location  # relative (resolves under the proxy already), or elsewhere
        if not parts.path.startswith(self.root):
            return location
        path = proxy_root + parts.path[len(self.root) :]
        return path + (f"?{parts.query}" if parts.query else "")


def dashboard_path(raw: str) -> str:
    """A path below the cluster id, as sent (still percent-encoded), as the dashboard gets it.

    Dot segments are refused (also when encoded) and anything not allowed in a path is
    quoted, so the path can only name something below the dashboard's root.
    """
    if any(segment in (".", "..") for segment in unquote(raw).replace("\\", "/").split("/")):
        raise tornado.web.HTTPError(400, "dot segments are not allowed in a dashboard path")
    return quote(raw, safe=PATH_SAFE)


class DashboardHandler(JupyterHandler, websocket.WebSocketHandler):
    """One cluster's dashboard: HTTP streamed through, the Bokeh WebSocket relayed both ways.

    Routed with ``manager_setting`` and ``auth_resource`` (see routes.py).
    """

    def initialize(self, manager_setting: str, auth_resource: str) -> None:
        self.manager_setting = manager_setting
        self.auth_resource = auth_resource
        self.target: DashboardTarget | None = None
        self.upstream: websocket.WebSocketClientConnection | None = None
        self.relay: asyncio.Future | None = None  # dashboard -> browser, while the socket is open
        self.upstream_status: httputil.ResponseStartLine | None = None
        self.upstream_headers = httputil.HTTPHeaders()

    @property
    def manager(self) -> ClusterManager:
        return self.settings[self.manager_setting]

    def get_login_url(self) -> str:
        raise tornado.web.HTTPError(403)  # refused like every clustercraft route, not redirected

    def compute_etag(self) -> None:
        return None  # the dashboard's own ETag passes through; tornado adds none

    async def prepare(self) -> None:
        await super().prepare()
        if not self.check_origin():  # cross-site requests, refused as the REST routes do
            raise tornado.web.HTTPError(403)

    # ------------------------------------------------------------ verbs

    @tornado.web.authenticated
    @authorized
    async def get(self, cluster_id: str, path: str | None = None) -> None:
        self.target = self.find_target(cluster_id)
        if path is None:
            query = self.request.query
            self.redirect(self.request.path + "/" + (f"?{query}" if query else ""))
        elif self.request.headers.get("Upgrade", "").lower() == "websocket":
            await self.relay_websocket()
        else:
            await self.forward()

    @tornado.web.authenticated
    @authorized
    async def head(self, cluster_id: str, path: str | None = None) -> None:
        self.target = self.find_target(cluster_id)
        await self.forward()

    @tornado.web.authenticated
    @authorized
    async def post(self, cluster_id: str, path: str | None = None) -> None:
        self.target = self.find_target(cluster_id)
        await self.forward()

    # One decorated function per action: authorized() fixes its action at the first call.
    options = head  # read
    put = patch = delete = post  # write

    # ------------------------------------------------------------ the target

    def find_target(self, cluster_id: str) -> DashboardTarget:
        try:
            link = self.manager.dashboard_address(cluster_id)
        except UnknownCluster:
            raise tornado.web.HTTPError(404, f"no cluster with id {cluster_id!r}") from None
        target = DashboardTarget.parse(link)
        if target is None:
            raise tornado.web.HTTPError(503, f"cluster {cluster_id!r} has no dashboard (yet)")
        return target

    def proxy_root(self) -> str:
        cluster_id = quote(self.path_kwargs["cluster_id"], safe="")
        return url_path_join(self.base_url, DASHBOARD_PATH, cluster_id) + "/"

    def upstream_url(self, websocket: bool = False) -> str:
        # From the raw request path: tornado's path arguments are decoded ("%2F" is "/" there).
        below_root = self.request.path[len(url_path_join(self.base_url, DASHBOARD_PATH)) + 1 :]
        path = dashboard_path(below_root.partition("/")[2])
        return self.target.url(path, self.upstream_query(), websocket)

    def upstream_query(self) -> str:
        query = self.request.query
        arguments = parse_qsl(query, keep_blank_values=True)
        if any(name in JUPYTER_ARGUMENTS for name, _ in arguments):
            query = urlencode([(n, v) for n, v in arguments if n not in JUPYTER_ARGUMENTS])
        return quote(query, safe=QUERY_SAFE)

    def forwarded_headers(self) -> httputil.HTTPHeaders:
        headers = httputil.HTTPHeaders()
        for name, value in self.request.headers.get_all():
            if name.lower() in FORWARDED_REQUEST_HEADERS:
                headers.add(name, value)
        return headers

    # ------------------------------------------------------------ HTTP

    async def forward(self) -> None:
        """Send the request on and stream the answer back as it arrives, bytes untouched."""
        body = self.request.body
        if not body and self.request.method not in ("POST", "PUT", "PATCH"):
            body = None
        request = HTTPRequest(
            self.upstream_url(),
            method=self.request.method,
            headers=self.forwarded_headers(),
            body=body,
            follow_redirects=False,
            decompress_response=False,  # gzip passes through as the browser accepted it
            allow_nonstandard_methods=True,
            connect_timeout=CONNECT_TIMEOUT,
            request_timeout=REQUEST_TIMEOUT,
            header_callback=self.on_upstream_header,
            streaming_callback=self.on_upstream_chunk,
        )
        client = AsyncHTTPClient(force_instance=True)  # not the shared one: it queues past 10
        try:
            await client.fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:
            if self._headers_written:
                raise  # mid-body: nothing to do but drop the connection
            cluster_id = self.path_kwargs["cluster_id"]
            raise tornado.web.HTTPError(
                502, f"the dashboard of cluster {cluster_id!r} does not answer: {exc}"
            ) from None
        finally:
            client.close()
        if self.upstream_status is None:
            raise tornado.web.HTTPError(502, "the dashboard sent no response")
        self.finish()

    def on_upstream_header(self, line: str) -> None:
        if line.startswith("HTTP/"):
            self.upstream_status = httputil.parse_response_start_line(line.strip())
            self.upstream_headers = httputil.HTTPHeaders()
        elif line.strip():
            self.upstream_headers.parse_line(line)
        elif self.upstream_status is not None and self.upstream_status.code >= 200:
            self.start_response()

    def start_response(self) -> None:
        self.set_status(self.upstream_status.code, self.upstream_status.reason or None)
        self.clear_header("Content-Type")
        for name, value in self.upstream_headers.get_all():
            if name.lower() in DROPPED_RESPONSE_HEADERS:
                continue
            if name.lower() == "location":
                value = self.target.proxied_location(value, self.proxy_root())
            self.add_header(name, value)

    def on_upstream_chunk(self, chunk: bytes) -> None:
        self.write(chunk)
        self.flush()

    # ------------------------------------------------------------ WebSocket

    async def relay_websocket(self) -> None:
        """Connect to the dashboard first, so the browser gets the subprotocol it chose."""
        request = HTTPRequest(
            self.upstream_url(websocket=True),
            headers=self.forwarded_headers(),  # no Origin: Jupyter has checked the browser's
            connect_timeout=CONNECT_TIMEOUT,
        )
        protocols = self.request.headers.get("Sec-WebSocket-Protocol", "")
        try:
            self.upstream = await websocket.websocket_connect(
                request,
                subprotocols=[p.strip() for p in protocols.split(",") if p.strip()] or None,
                max_message_size=self.settings.get("websocket_max_message_size", 10 * 2**20),
            )
        except (OSError, HTTPClientError) as exc:
            # The dashboard's own answer (404 for no such page) as it gave it; else 502.
            status = exc.code if isinstance(exc, HTTPClientError) and exc.code < 599 else 502
            cluster_id = self.path_kwargs["cluster_id"]
            raise tornado.web.HTTPError(
                status, f"the dashboard of cluster {cluster_id!r} refused the WebSocket: {exc}"
            ) from None
        try:
            await websocket.WebSocketHandler.get(self)  # the handshake, then frames until closed
        finally:
            self.upstream.close()

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        chosen = self.upstream.selected_subprotocol if self.upstream else None
        return chosen if chosen in subprotocols else None

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.relay = asyncio.ensure_future(self.relay_from_upstream())

    async def relay_from_upstream(self) -> None:
        upstream = self.upstream
        while (message := await upstream.read_message()) is not None:
            try:
                await self.write_message(message, binary=isinstance(message, bytes))
            except websocket.WebSocketClosedError:
                return
        code = upstream.close_code
        self.close(None if code in UNSENDABLE_CLOSE_CODES else code, upstream.close_reason)

    async def on_message(self, message: str | bytes) -> None:
        try:
            await self.upstream.write_message(message, binary=isinstance(message, bytes))
        except websocket.WebSocketClosedError:
            self.close()

    def on_close(self) -> None:
        if self.upstream is not None:
            code = self.close_code
            self.upstream.close(None if code in UNSENDABLE_CLOSE_CODES else code, self.close_reason)
