"""What the server knows about one cluster it lists, and how it hands that to the browser."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from clustercraft.schema import cluster_model

from .connection import HostConnection
from .hoststate import PANEL
from .spec import ClusterSpec

DASHBOARD_PATH = "clustercraft/dashboard"  # under the server's base URL: dashboards by cluster id


@dataclass
class HostRecord:
    """What the server knows about one cluster host."""

    id: str
    name: str
    spec: ClusterSpec
    socket_path: str
    started: float
    pid: int | None = None
    create_time: float | None = None  # the host's start time: with pid, its identity
    process: subprocess.Popen | None = None  # None when reattached: not our child
    cluster: dict[str, Any] | None = None  # latest state pushed by the host
    status: str | None = None  # overrides the host's: "closing" or "lost"
    connection: HostConnection | None = None  # while this server holds the host
    attached: asyncio.Event = field(default_factory=asyncio.Event)  # set once tried
    task: asyncio.Task | None = None
    base_url: str = "/"  # the Jupyter server's, for the dashboard link it hands out
    origin: str = PANEL  # or KERNEL (pid is the kernel's, never signalled), or ADDRESS
    kernel: dict[str, Any] | None = None  # a kernel cluster's {id, pid, notebook}
    heard: float = field(default_factory=time.monotonic)  # when the host last said something
    problem: str | None = None  # why it is lost or not answering, for the card
    # A kernel's notebook as the server's sessions know it now (renames included).
    notebook_of: Callable[[str], str | None] | None = None

    def to_json(self) -> dict[str, Any]:
        cluster = dict(self.cluster) if self.cluster else self.placeholder()
        cluster.setdefault("origin", self.origin)
        cluster.setdefault("kernel", self.kernel)
        kernel = cluster.get("kernel")
        if kernel and kernel.get("id") and self.notebook_of is not None:
            notebook = self.notebook_of(kernel["id"])
            if notebook:
                cluster["kernel"] = {**kernel, "notebook": notebook}
        if self.status:
            cluster["status"] = self.status
        if self.problem:
            cluster["error"] = self.problem
        if self.status == "lost":
            cluster["dashboard_link"] = None  # nothing answers there any more
        cluster["dashboard_link"] = proxied_dashboard_link(self.base_url, self.id, cluster)
        return cluster

    def placeholder(self) -> dict[str, Any]:
        """The cluster before its host has said anything."""
        adapt = self.spec.adapt
        return cluster_model(
            self.id,
            self.name,
            "starting",
            [],
            origin=self.origin,
            kernel=self.kernel,
            profile=self.spec.profile if self.origin == PANEL else None,
            requested_workers=self.spec.n_workers,
            processes=bool(self.spec.options.get("processes", True)),
            adapt={"minimum": adapt.minimum, "maximum": adapt.maximum} if adapt else None,
            started=self.started,
        )


def proxied_dashboard_link(base_url: str, cluster_id: str, cluster: dict[str, Any]) -> str | None:
    """The dashboard as users reach it: through this Jupyter server, so also behind JupyterHub.

    A server-relative path (``{base_url}clustercraft/dashboard/{id}/status``, see dashboard.py)
    while the host reports a dashboard; the host's direct address never leaves the server.
    """
    if not cluster.get("dashboard_link"):
        return None
    return f"{base_url.rstrip('/')}/{DASHBOARD_PATH}/{quote(cluster_id, safe='')}/status"
