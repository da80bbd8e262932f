"""Server side: the cluster manager and its REST/WebSocket routes, as a Jupyter server extension
(app.py), and the cluster host processes it starts (host.py).

``ClusterCraftApp`` is imported on first use: a host process imports this package too, and
jupyter_server would cost it a second at every cluster start.
"""

from __future__ import annotations

__all__ = ["ClusterCraftApp"]


def __getattr__(name: str):
    if name == "ClusterCraftApp":
        from .app import ClusterCraftApp

        return ClusterCraftApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
