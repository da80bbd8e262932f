"""Server side: the cluster manager and its REST/WebSocket routes."""

from __future__ import annotations


def load_jupyter_server_extension(server_app) -> None:
    from .routes import setup_routes

    setup_routes(server_app)
    server_app.log.info("clustercraft: server extension loaded")
