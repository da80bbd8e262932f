"""The Dask dashboard through the Jupyter server: a real server, real clusters, real Bokeh."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
from pathlib import Path

import pytest
import tornado.httputil
import tornado.web
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.websocket import WebSocketHandler, websocket_connect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


async def running_cluster(clusters) -> dict:
    cluster = await clusters.create(n_workers=1, processes=False)
    return await clusters.wait_for(cluster["id"], lambda c: c["status"] == "running")


async def through_proxy(jp_fetch, cluster_id: str, *path: str, **kwargs):
    kwargs.setdefault("raise_error", False)
    return await jp_fetch("clustercraft", "dashboard", cluster_id, *path, **kwargs)


def session_token(page: str) -> str:
    """The Bokeh session token a page embeds; its WebSocket sends it as a subprotocol."""
    return re.search(r'"token":"([^"]+)"', page).group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Witness:
    """A throwaway HTTP + WebSocket server on another port that records what reaches it."""

    SECRET = "witness-server-was-reached"

    def __init__(self) -> None:
        self.requests: list[tornado.httputil.HTTPServerRequest] = []
        witness = self

        class Record(tornado.web.RequestHandler):
            def prepare(self) -> None:
                witness.requests.append(self.request)

            def get(self, path: str) -> None:
                if path == "redirect":
                    self.set_header("Set-Cookie", "dashboard=1; Path=/")
                    self.redirect(f"http://127.0.0.1:{witness.port}/status?x=1")
                    return
                self.finish(witness.SECRET)

            post = get

        class Echo(WebSocketHandler):
            def open(self) -> None:
                witness.requests.append(self.request)
                self.write_message(witness.SECRET)

        self.port = free_port()
        app = tornado.web.Application([(r"/echo/ws", Echo), (r"/(.*)", Record)])
        self.server = HTTPServer(app)
        self.server.listen(self.port, "127.0.0.1")
        self.link = f"http://127.0.0.1:{self.port}/status"

    def close(self) -> None:
        self.server.stop()


@pytest.fixture
def witness():
    server = Witness()
    yield server
    server.close()


# ---------------------------------------------------------------- the real dashboard


async def test_dashboard_link_is_the_servers_own_path(clusters, jp_base_url):
    cluster = await running_cluster(clusters)
    expected = f"{jp_base_url}clustercraft/dashboard/{cluster['id']}/status"
    assert cluster["dashboard_link"] == expected
    listed = json.loads((await clusters.request("GET")).body)
    assert listed[0]["dashboard_link"] == expected
    # The direct address stays with the server.
    direct = clusters.manager.dashboard_address(cluster["id"])
    assert direct.startswith("http://127.0.0.1:") and direct.endswith("/status")
    assert direct.split("//")[1].split("/")[0] not in json.dumps(listed)


async def test_status_page_plots_and_assets_through_the_proxy(clusters, jp_fetch):
    cluster_id = (await running_cluster(clusters))["id"]

    status = await through_proxy(jp_fetch, cluster_id, "status")
    assert status.code == 200
    assert status.headers["Content-Type"].startswith("text/html")
    page = status.body.decode()
    assert "<title>Dask Diagnostic UI</title>" in page
    assert 'href="individual-task-stream"' in page  # relative: resolves under the proxy

    plots = json.loads((await through_proxy(jp_fetch, cluster_id, "individual-plots.json")).body)
    assert "Individual Task Stream" in plots

    task_stream = await through_proxy(jp_fetch, cluster_id, "individual-task-stream")
    assert task_stream.code == 200
    assert "Bokeh.embed.embed_items" in task_stream.body.decode()
    assert session_token(task_stream.body.decode())

    script = re.search(r'src="(static/js/bokeh\.min\.js\?v=[0-9a-f]+)"', page).group(1)
    path, _, version = script.partition("?v=")
    asset = await through_proxy(jp_fetch, cluster_id, path, params={"v": version})
    assert asset.code == 200
    assert "javascript" in asset.headers["Content-Type"]
    assert len(asset.body) > 100_000 and b"Bokeh" in asset.body
    # Caching works through the proxy: the dashboard's ETag, then 304.
    etag = asset.headers["Etag"]
    again = await through_proxy(
        jp_fetch, cluster_id, path, params={"v": version}, headers={"If-None-Match": etag}
    )
    assert again.code == 304

    head = await through_proxy(jp_fetch, cluster_id, path, params={"v": version}, method="HEAD")
    assert head.code == 200 and head.body == b""
    assert int(head.headers["Content-Length"]) == len(asset.body)

    css = await through_proxy(jp_fetch, cluster_id, "statics", "css", "base.css")
    assert css.code == 200 and css.headers["Content-Type"].startswith("text/css")


async def test_redirects_stay_under_the_proxy(
    clusters, http_server_client, jp_auth_header, jp_base_url
):
    cluster_id = (await running_cluster(clusters))["id"]
    root = f"{jp_base_url}clustercraft/dashboard/{cluster_id}/"

    async def fetch(path: str, **kwargs):
        return await http_server_client.fetch(
            path, headers=jp_auth_header, raise_error=False, **kwargs
        )

    # The dashboard's "/" redirects to an absolute "/status": mapped back under the proxy.
    response = await fetch(root, follow_redirects=False)
    assert response.code in (301, 302)
    assert response.headers["Location"] == root + "status"
    # The bare cluster URL gets its slash first.
    response = await fetch(root.rstrip("/"), follow_redirects=False)
    assert response.code in (301, 302)
    assert response.headers["Location"] == root
    assert (await fetch(root + "status")).code == 200


async def test_bokeh_websocket_exchanges_messages_through_the_proxy(
    clusters, jp_fetch, jp_ws_fetch
):
    cluster_id = (await running_cluster(clusters))["id"]
    page = (await through_proxy(jp_fetch, cluster_id, "individual-task-stream")).body.decode()

    ws = await jp_ws_fetch(
        "clustercraft",
        "dashboard",
        cluster_id,
        "individual-task-stream",
        "ws",
        subprotocols=["bokeh", session_token(page)],
    )
    try:
        assert ws.selected_subprotocol == "bokeh"  # what Bokeh chose, relayed to the browser
        # Bokeh's messages are three text frames: header, metadata, content.
        ack = json.loads(await asyncio.wait_for(ws.read_message(), 30))
        assert ack["msgtype"] == "ACK"
        await ws.read_message()
        await ws.read_message()
        for frame in ({"msgid": "1", "msgtype": "PULL-DOC-REQ"}, {}, {}):
            await ws.write_message(json.dumps(frame))
        header = json.loads(await asyncio.wait_for(ws.read_message(), 30))
        assert header["msgtype"] == "PULL-DOC-REPLY" and header["reqid"] == "1"
        await ws.read_message()  # metadata
        content = json.loads(await asyncio.wait_for(ws.read_message(), 30))
        assert content["doc"]["roots"], content
    finally:
        ws.close()


# ---------------------------------------------------------------- refused


async def test_without_credentials_the_dashboard_is_refused(
    clusters, http_server_client, jp_base_url, jp_fetch, jp_http_port, jp_ws_fetch
):
    cluster_id = (await running_cluster(clusters))["id"]
    url = f"{jp_base_url}clustercraft/dashboard/{cluster_id}/status"
    for method in ("GET", "HEAD", "POST"):
        with pytest.raises(HTTPClientError) as info:
            body = b"" if method == "POST" else None
            await http_server_client.fetch(url, method=method, body=body, follow_redirects=False)
        assert info.value.code == 403, method
    with pytest.raises(HTTPClientError) as info:
        await jp_ws_fetch(
            "clustercraft", "dashboard", cluster_id, "status", "ws", headers={"Authorization": ""}
        )
    assert info.value.code == 403

    # With the login cookie a browser holds: its own pages connect, another site's may not.
    response = await through_proxy(jp_fetch, cluster_id, "individual-task-stream")
    cookie = "; ".join(c.split(";")[0] for c in response.headers.get_list("Set-Cookie"))
    token = session_token(response.body.decode())
    origin = f"http://127.0.0.1:{jp_http_port}"  # the host the cookie was issued for
    ws_url = f"ws://127.0.0.1:{jp_http_port}{url.removesuffix('status')}individual-task-stream/ws"

    async def connect(origin: str):
        headers = {"Cookie": cookie, "Origin": origin}
        request = HTTPRequest(ws_url, headers=headers)
        return await websocket_connect(request, subprotocols=["bokeh", token])

    (await connect(origin)).close()
    with pytest.raises(HTTPClientError) as info:
        await connect("http://evil.example")
    assert info.value.code == 403


async def test_unknown_ids_get_404(jp_fetch, jp_ws_fetch, witness):
    for cluster_id in ("nope", f"127.0.0.1:{witness.port}", str(witness.port)):
        response = await through_proxy(jp_fetch, cluster_id, "status")
        assert response.code == 404, cluster_id
    with pytest.raises(HTTPClientError) as info:
        await jp_ws_fetch("clustercraft", "dashboard", "nope", "status", "ws")
    assert info.value.code == 404
    assert witness.requests == []


async def test_no_path_reaches_another_host_or_port(
    clusters, http_server_client, jp_auth_header, jp_base_url, jp_http_port, witness
):
    cluster_id = (await running_cluster(clusters))["id"]
    root = f"{jp_base_url}clustercraft/dashboard/{cluster_id}/"
    port = witness.port
    attempts = [
        f"http://127.0.0.1:{port}/",
        f"//127.0.0.1:{port}/",
        f"///127.0.0.1:{port}/",
        f"@127.0.0.1:{port}/",
        f":{port}/",
        f"%2F%2F127.0.0.1:{port}/",
        f"..%2F..%2F..%2F127.0.0.1:{port}/",
        f"../../{port}/",
        f"%2e%2e/%2e%2e/{port}/",
        f"status/..%5C..%5C127.0.0.1:{port}/",
        f"%5C%5C127.0.0.1:{port}/",
        f"status?url=http://127.0.0.1:{port}/&next=//127.0.0.1:{port}",
        f"http:%2F%2F127.0.0.1:{port}%2F",
    ]
    for attempt in attempts:
        response = await http_server_client.fetch(
            root + attempt,
            headers=jp_auth_header | {"X-Forwarded-Host": f"127.0.0.1:{port}"},
            raise_error=False,
            follow_redirects=False,
        )
        assert witness.SECRET.encode() not in response.body, attempt
        assert response.code in (200, 400, 404), (attempt, response.code)
    # Nor with the Host header the request claims.
    response = await http_server_client.fetch(
        root + "status",
        headers=jp_auth_header | {"Host": f"127.0.0.1:{port}"},
        raise_error=False,
    )
    assert witness.SECRET.encode() not in response.body
    # Nor through the WebSocket.
    for attempt in (f"http:%2F%2F127.0.0.1:{port}%2Fecho", f"..%2F..%2F{port}%2Fecho", "%2F%2F"):
        url = f"ws://127.0.0.1:{jp_http_port}{root}{attempt}/ws"
        try:
            ws = await websocket_connect(HTTPRequest(url, headers=jp_auth_header))
        except HTTPClientError as error:
            assert error.code in (400, 404), (attempt, error.code)
            continue
        message = await asyncio.wait_for(ws.read_message(), 10)
        assert message != witness.SECRET
        ws.close()
    assert witness.requests == []


async def test_a_cluster_without_a_dashboard_yet_gets_503(jp_fetch, clusters, monkeypatch):
    cluster_id = (await running_cluster(clusters))["id"]
    monkeypatch.setattr(clusters.manager, "dashboard_address", lambda cid: None)
    response = await through_proxy(jp_fetch, cluster_id, "status")
    assert response.code == 503


# ---------------------------------------------------------------- what the dashboard sees


async def test_jupyters_credentials_do_not_reach_the_dashboard(
    clusters, jp_fetch, jp_ws_fetch, jp_base_url, jp_serverapp, monkeypatch, witness
):
    # The "dashboard" is the witness, as if the host had reported it.
    monkeypatch.setattr(clusters.manager, "dashboard_address", lambda cid: witness.link)
    token = jp_serverapp.identity_provider.token
    sent = {
        "Cookie": "username-localhost-8888=secret-login; _xsrf=secret-xsrf",
        "X-XSRFToken": "secret-xsrf",
        "Referer": f"http://localhost/lab?token={token}",
        "Accept-Language": "fr",
    }
    response = await jp_fetch(
        "clustercraft",
        "dashboard",
        "any",
        "some",
        "page",
        params={"token": token, "x": "1"},
        headers=sent,
    )
    assert response.body == witness.SECRET.encode()
    seen = witness.requests[-1]
    assert seen.path == "/some/page" and seen.query == "x=1"
    assert seen.headers["Host"] == f"127.0.0.1:{witness.port}"
    assert seen.headers["Accept-Language"] == "fr"
    for name in ("Cookie", "Authorization", "X-XSRFToken", "Referer", "Origin"):
        assert name not in seen.headers, name
    assert "secret" not in str(dict(seen.headers)) and token not in str(dict(seen.headers))

    # Redirects come back under the proxy; the dashboard's cookies stay out of Jupyter's origin.
    response = await jp_fetch(
        "clustercraft", "dashboard", "any", "redirect", follow_redirects=False, raise_error=False
    )
    assert response.headers["Location"] == f"{jp_base_url}clustercraft/dashboard/any/status?x=1"
    assert "dashboard=1" not in response.headers.get_list("Set-Cookie")

    ws = await jp_ws_fetch(
        "clustercraft", "dashboard", "any", "echo", "ws", params={"token": token}
    )
    assert await asyncio.wait_for(ws.read_message(), 10) == witness.SECRET
    ws.close()
    seen = witness.requests[-1]
    assert seen.query == ""
    for name in ("Cookie", "Authorization", "Origin"):
        assert name not in seen.headers, name


# ---------------------------------------------------------------- what users see

CANVAS_SCRIPT = """
const { chromium } = require('playwright-core');
(async () => {
  const browser = await chromium.launch({
    executablePath: process.argv[1],
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(process.argv[2]);
    const canvas = page.locator('canvas').first();  // inside Bokeh's (open) shadow roots
    await canvas.waitFor({ state: 'visible', timeout: 60000 });
    const box = await canvas.boundingBox();
    console.log(JSON.stringify({ url: page.url(), title: await page.title(), box }));
  } finally {
    await browser.close();
  }
})().catch(error => { console.error(error); process.exit(1); });
"""


@pytest.mark.skipif(
    not (shutil.which("node") and os.path.exists(CHROMIUM))
    or not (ROOT / "node_modules" / "playwright-core").exists(),
    reason="needs node, playwright-core and Chromium",
)
async def test_chromium_renders_the_task_stream_through_the_proxy(
    clusters, jp_serverapp, jp_http_port
):
    cluster = await running_cluster(clusters)
    page = cluster["dashboard_link"].removesuffix("status") + "individual-task-stream"
    token = jp_serverapp.identity_provider.token
    url = f"http://localhost:{jp_http_port}{page}?token={token}"
    node = await asyncio.create_subprocess_exec(
        "node",
        "-e",
        CANVAS_SCRIPT,
        CHROMIUM,
        url,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(node.communicate(), 120)
    assert node.returncode == 0, err.decode()[-2000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["title"] == "Dask: TaskStream"
    assert seen["box"]["width"] > 100 and seen["box"]["height"] > 50
    assert "/clustercraft/dashboard/" in seen["url"]
