"""REST routes, kept thin: validation and work live in schema.py and manager.py."""

from __future__ import annotations

import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join


class ClusterCraftHandler(APIHandler):
    """Base handler: JSON errors with a message (and the offending field), never a traceback."""

    def write_error(self, status_code: int, **kwargs) -> None:
        self.set_header("Content-Type", "application/json")
        reason = self._reason
        field = None
        exc_info = kwargs.get("exc_info")
        if exc_info:
            exc = exc_info[1]
            if isinstance(exc, tornado.web.HTTPError) and exc.log_message:
                reason = exc.log_message
            field = getattr(exc, "field", None)
        self.finish(json.dumps({"message": reason, "field": field}))


class ClustersHandler(ClusterCraftHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(json.dumps([]))


def setup_routes(server_app) -> None:
    web_app = server_app.web_app
    base = url_path_join(web_app.settings["base_url"], "clustercraft")
    web_app.add_handlers(".*$", [(url_path_join(base, "clusters"), ClustersHandler)])
