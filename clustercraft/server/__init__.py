"""Server side: the cluster manager and its REST/WebSocket routes."""

from __future__ import annotations


def load_jupyter_server_extension(server_app) -> None:
    from tornado.ioloop import IOLoop

    from .manager import ClusterManager
    from .routes import MANAGER_SETTING, setup_routes

    manager = ClusterManager(parent=server_app, log=server_app.log)
    server_app.web_app.settings[MANAGER_SETTING] = manager
    setup_routes(server_app)
    # Reattach to surviving hosts as soon as the loop runs, within their grace time.
    IOLoop.current().add_callback(manager.start)
    _close_clusters_on_cleanup(server_app, manager)
    server_app.log.info("clustercraft: server extension loaded")


def _close_clusters_on_cleanup(server_app, manager) -> None:
    """A clean server shutdown closes every cluster.

    Module-style extensions get no stop hook (only ExtensionApps do), so the manager's
    shutdown runs just before the server's own extension cleanup.
    """
    cleanup_extensions = server_app.cleanup_extensions

    async def cleanup_clusters_then_extensions() -> None:
        await manager.shutdown()
        await cleanup_extensions()

    server_app.cleanup_extensions = cleanup_clusters_then_extensions
