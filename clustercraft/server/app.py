"""The Jupyter server extension: one ClusterManager and the routes, for the server's lifetime."""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop

from clustercraft.runtime import RUNTIME_ENV

from .manager import ClusterManager
from .routes import MANAGER_SETTING, route_table


class ClusterCraftApp(ExtensionApp):
    """Owns one ClusterManager for the server's lifetime; a clean stop closes its clusters."""

    name = "clustercraft"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        self.manager = ClusterManager(parent=self, log=self.log, base_url=self.serverapp.base_url)
        self.settings[MANAGER_SETTING] = self.manager
        self.manager.notebook_of = self.notebook_of
        # Kernels this server starts inherit it: they list their clusters where it looks.
        os.environ[RUNTIME_ENV] = self.manager.runtime_dir
        # Adopt surviving hosts as soon as the loop runs, within their grace time.
        IOLoop.current().add_callback(self.manager.start)

    def notebook_of(self, kernel_id: str) -> str | None:
        """The path of the session (notebook, console) a kernel of this server runs for."""
        try:
            cursor = self.serverapp.session_manager.cursor
            row = cursor.execute(
                "SELECT path FROM session WHERE kernel_id=?", (kernel_id,)
            ).fetchone()
        except Exception:  # no session manager, or another one: the kernel's own word stands
            return None
        return row[0] if row else None

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def stop_extension(self) -> None:
        await self.manager.shutdown()
