"""The server extension loads in a real Jupyter server and guards every route."""

import re

import pytest
from tornado.httpclient import HTTPClientError


def clustercraft_routes(serverapp):
    """Every URL pattern the extension registered, with regex groups filled by a dummy id."""
    patterns = []
    for rule in serverapp.web_app.default_router.rules:
        for inner in getattr(rule.target, "rules", []):
            pattern = inner.matcher.regex.pattern
            if "/clustercraft" in pattern:
                patterns.append(pattern)
    return [re.sub(r"\(\?P<\w+>[^)]*\)|\([^)]*\)", "0", p).rstrip("$") for p in patterns]


async def test_server_extension_is_loaded(jp_serverapp):
    assert "clustercraft" in jp_serverapp.extension_manager.extensions
    assert jp_serverapp.extension_manager.extensions["clustercraft"].enabled
    assert clustercraft_routes(jp_serverapp), "no /clustercraft route registered"


async def test_list_clusters_with_credentials(jp_fetch):
    response = await jp_fetch("clustercraft", "clusters")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE", "PUT"])
async def test_every_route_refuses_requests_without_credentials(
    jp_serverapp, http_server_client, jp_base_url, method
):
    routes = clustercraft_routes(jp_serverapp)
    assert routes
    for route in routes:
        path = route if route.startswith(jp_base_url) else jp_base_url.rstrip("/") + route
        body = b"{}" if method in ("POST", "PATCH", "PUT") else None
        with pytest.raises(HTTPClientError) as info:
            await http_server_client.fetch(path, method=method, body=body, raise_error=True)
        # 403 (no token / XSRF), 401, or 405 for a verb the route does not have; never 2xx.
        assert info.value.code in (401, 403, 405), (route, method, info.value.code)
