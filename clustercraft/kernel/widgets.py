"""Inline widgets drawn by clustercraft's labextension: live worker tables, peak reports and
partition profile reports.

Tables and timelines cross the comm as Arrow IPC buffers (see ``arrow.py``). Each widget's
mimebundle also carries a static HTML and text rendering, for frontends without widgets.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import ipywidgets
from dask.utils import format_bytes
from traitlets import Bytes, Dict, Unicode

from .. import __version__
from ..schema import cluster_model, diff_rows, worker_rows
from ..sizing.recommend import counted, verdict
from ..sizing.render import render
from ..worker_peak import MEMORY_RESTART_TOPIC, peak_method, plugin_registration, reset_message
from .arrow import bound_timeline, encode_rows, encode_timeline

log = logging.getLogger("clustercraft")

MODULE_NAME = "clustercraft"
MODULE_VERSION = f"^{__version__}"  # the labextension registers its widgets under this version
CLOSED = "closed"  # a ClusterInfo's status once its client or cluster closed
UPDATE_INTERVAL = 1.0  # seconds between ClusterInfo updates
PROGRESS_INTERVAL = 0.2  # at most this often a running peak report sends live figures


class _Widget(ipywidgets.DOMWidget):
    _model_module = Unicode(MODULE_NAME).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_module = Unicode(MODULE_NAME).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:  # None: closed
            bundle["text/plain"] = self.text()
            bundle["text/html"] = self.html()
        return bundle

    def text(self) -> str:
        raise NotImplementedError

    def html(self) -> str:
        raise NotImplementedError


# ---------------------------------------------------------------- ClusterInfo


class ClusterSource:
    """Reads the scheduler's identity through a Client or a Dask cluster object.

    Makes every worker report its own peak memory (the WorkerPeak plugin) to the scheduler.
    """

    def __init__(self, client_or_cluster: Any) -> None:
        from distributed import Client

        if isinstance(client_or_cluster, Client):
            self.client, self.cluster = client_or_cluster, client_or_cluster.cluster
        elif hasattr(client_or_cluster, "scheduler_comm"):  # distributed.deploy.Cluster
            self.client, self.cluster = None, client_or_cluster
        else:
            raise TypeError(
                f"ClusterInfo needs a distributed.Client or a Dask cluster, not {type(client_or_cluster).__name__}"
            )
        self.restarts_before_reset = 0
        self.install_peaks()

    @property
    def closed(self) -> bool:
        owner = self.client if self.client is not None else self.cluster
        return str(getattr(owner.status, "name", owner.status)) in ("closing", "closed", "failed")

    def call(self, op: str, **kwargs: Any) -> Any:
        """Call one of the scheduler's handlers, e.g. ``call("identity")``."""
        if self.client is not None:
            return self.client.sync(getattr(self.client.scheduler, op), **kwargs)
        return self.cluster.sync(getattr(self.cluster.scheduler_comm, op), **kwargs)

    def identity(self) -> dict[str, Any]:
        return self.call("identity", n_workers=-1)

    def install_peaks(self) -> None:
        try:
            replies = self.call("register_worker_plugin", **plugin_registration())
        except Exception as exc:
            log.warning("clustercraft: worker peaks unavailable: %s", exc)
            return
        failed = [address for address, reply in replies.items() if reply["status"] != "OK"]
        if failed:  # the plugin's setup failed there
            log.warning("clustercraft: %d worker(s) cannot report their peak memory", len(failed))

    def memory_restarts(self) -> int:
        return len(self.call("events", topic=MEMORY_RESTART_TOPIC))

    def reset_peaks(self) -> None:
        """Start every worker's peak, and the memory-restart count, afresh."""
        self.restarts_before_reset = self.memory_restarts()
        self.call("broadcast", **reset_message())

    @property
    def dashboard_link(self) -> str | None:
        try:
            return (self.client or self.cluster).dashboard_link
        except Exception:  # no dashboard (bokeh missing or disabled)
            return None

    def snapshot(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The cluster summary (a cluster object without ``workers``) and its worker rows."""
        identity = self.identity()
        rows = worker_rows(identity.get("workers", {}))
        name = getattr(self.cluster, "name", None) if self.cluster is not None else None
        summary = cluster_model(
            identity.get("id", ""),
            str(name or identity.get("id", "")),
            "running",
            rows,
            scheduler_address=identity.get("address", ""),
            dashboard_link=self.dashboard_link,
            processes=any(row["nanny"] for row in rows),
            started=float(identity.get("started") or 0.0),
            memory_restarts=self.memory_restarts() - self.restarts_before_reset,
            memory_peak_method=peak_method(identity.get("workers", {})),
        )
        del summary["workers"]  # they travel as Arrow rows
        return summary, rows


class ClusterInfo(_Widget):
    """Live scheduler summary and worker table of a Client or Dask cluster.

    Updates about once a second while shown: only new or changed rows (an Arrow IPC buffer)
    and removed addresses travel. Stops when closed, or when the client or cluster closes.
    ``interval=None`` never updates by itself (call ``update()``).
    """

    _model_name = Unicode("ClusterInfoModel").tag(sync=True)
    _view_name = Unicode("ClusterInfoView").tag(sync=True)
    # The state at creation; later states travel as "snapshot"/"delta" messages.
    summary = Dict().tag(sync=True)
    rows = Bytes().tag(sync=True)

    def __init__(
        self, client_or_cluster: Any, interval: float | None = UPDATE_INTERVAL, **kwargs: Any
    ) -> None:
        # First, so that close() (also called by __del__) works even if the rest fails.
        self._stop = threading.Event()
        self._visible = threading.Event()
        self._visible.set()
        # update() runs in the ticker and in frontend requests; it may mark the widget closed.
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self.source = ClusterSource(client_or_cluster)
        summary, rows = self.source.snapshot()
        super().__init__(summary=summary, rows=encode_rows(rows), **kwargs)
        self.sent: dict[str, dict[str, Any]] = {row["address"]: row for row in rows}
        self.current_summary = summary
        self.interval = interval
        self.on_msg(self._on_frontend_msg)
        if interval is not None:
            self._thread = threading.Thread(
                target=self._run, name="clustercraft-clusterinfo", daemon=True
            )
            self._thread.start()

    def update(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Send what changed since the last update; returns (changed rows, removed addresses)."""
        with self._lock:
            if self.source.closed:
                self._mark_closed()
                return [], []
            summary, rows = self.source.snapshot()
            changed, removed = diff_rows(self.sent, rows)
            content: dict[str, Any] = {"type": "delta", "removed": removed}
            if summary != self.current_summary:
                content["summary"] = summary
            if changed or removed or "summary" in content:
                self.send(content, buffers=[encode_rows(changed)] if changed else None)
            self.sent = {row["address"]: row for row in rows}
            self.current_summary = summary
            return changed, removed

    def send_snapshot(self) -> None:
        """Send the whole table (a new or reloaded page asks for it)."""
        with self._lock:
            rows = list(self.sent.values())
            content = {"type": "snapshot", "summary": self.current_summary}
            self.send(content, buffers=[encode_rows(rows)])

    def close(self) -> None:
        self._stop.set()
        self._visible.set()  # wake a paused ticker so it sees the stop
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        super().close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._visible.wait()
            if self._stop.is_set():
                return
            try:
                self.update()
            except Exception:
                if not self.source.closed:
                    continue  # a scheduler hiccup: try again next tick
            if self.source.closed:
                self._mark_closed()
                return

    def _mark_closed(self) -> None:
        """The final state: closed, no workers (their last rows would read "running" forever)."""
        self._stop.set()
        with self._lock:
            if self.current_summary.get("status") == CLOSED:
                return
            removed = list(self.sent)
            self.sent = {}
            self.current_summary = {
                **self.current_summary,
                "status": CLOSED,
                "dashboard_link": None,  # nothing answers there any more
                **dict.fromkeys(("n_workers", "total_threads", "total_memory", "memory_used"), 0),
            }
            if self.comm is not None:
                self.send({"type": "delta", "summary": self.current_summary, "removed": removed})

    def _on_frontend_msg(self, _widget: Any, content: Mapping[str, Any], _buffers: list) -> None:
        kind = content.get("type")
        if kind == "snapshot":
            self.send_snapshot()
        elif kind == "reset_peaks" and not self.source.closed:
            self.source.reset_peaks()
            self.update()
        elif kind == "visible":
            if content.get("visible"):
                self._visible.set()
            else:
                self._visible.clear()

    def text(self) -> str:
        return worker_table_text(self.current_summary, list(self.sent.values()))

    def html(self) -> str:
        return worker_table_html(self.current_summary, list(self.sent.values()))


WORKER_COLUMNS = (
    ("Worker", lambda r: r["name"]),
    ("Threads", lambda r: str(r["nthreads"])),
    ("Memory", lambda r: format_bytes(r["memory"])),
    ("Peak", lambda r: format_bytes(r["memory_peak"]) if r["memory_peak"] else "-"),
    ("Memory limit", lambda r: format_bytes(r["memory_limit"]) if r["memory_limit"] else "none"),
    ("CPU", lambda r: f"{r['cpu']:.0f} %"),
    ("Status", lambda r: r["status"]),
)


def summary_line(summary: Mapping[str, Any]) -> str:
    if summary.get("status") == CLOSED:
        return f"{summary.get('scheduler_address', '')}: closed"
    return (
        f"{summary.get('scheduler_address', '')}: {counted(summary.get('n_workers', 0), 'worker')}, "
        f"{counted(summary.get('total_threads', 0), 'thread')}, "
        f"{format_bytes(summary.get('memory_used', 0))} / {format_bytes(summary.get('total_memory', 0))}"
    )


def verdict_line(summary: Mapping[str, Any], rows: list[Mapping[str, Any]]) -> str:
    found = verdict({**summary, "workers": rows})
    return found["text"] if found else ""


def worker_table_text(summary: Mapping[str, Any], rows: list[Mapping[str, Any]]) -> str:
    table = [[name for name, _ in WORKER_COLUMNS]]
    table += [[cell(row) for _, cell in WORKER_COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(WORKER_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in table
    ]
    head = [summary_line(summary), verdict_line(summary, rows)]
    return "\n".join([*filter(None, head), *(line.rstrip() for line in lines)])


def worker_table_html(summary: Mapping[str, Any], rows: list[Mapping[str, Any]]) -> str:
    return render(
        "worker_table.html.j2",
        lines=[line for line in (summary_line(summary), verdict_line(summary, rows)) if line],
        headings=[name for name, _ in WORKER_COLUMNS],
        rows=[[cell(row) for _, cell in WORKER_COLUMNS] for row in rows],
    )


# ---------------------------------------------------------------- reports


class _ReportWidget(_Widget):
    """A report shown live while it is being made, then final: figures, recommendation,
    "Launch recommended cluster" and "Copy as code"."""

    # The report's to_dict(), or {} while measuring.
    report = Dict().tag(sync=True)
    # {"running": True, ...figures so far} while measuring, else {"running": False}.
    live = Dict({"running": False}).tag(sync=True)
    # What "Copy as code" copies: the recommended cluster as Python.
    code = Unicode().tag(sync=True)
    measuring = "Measuring..."  # the text views while live

    def __init__(self, report: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.final = None
        self._started = time.perf_counter()
        self._last_progress = 0.0
        if report is not None:
            self.finish(report)
        else:
            self.live = {"running": True, "current": 0, "peak": 0, "elapsed": 0.0}

    def _show_live(self, figures: dict[str, Any], force: bool = False) -> None:
        now = time.perf_counter()
        if self.final is not None or (not force and now - self._last_progress < PROGRESS_INTERVAL):
            return
        self._last_progress = now
        self.live = {"running": True, **figures, "elapsed": round(now - self._started, 2)}

    def finish(self, report: Any) -> None:
        """Show the final report."""
        self.final = report
        data = self._data(report)
        with self.hold_sync():
            self.report = data
            self.code = (data.get("recommendation") or {}).get("code") or ""
            self.live = {"running": False}

    def _data(self, report: Any) -> dict[str, Any]:
        return report.to_dict()

    def text(self) -> str:
        return repr(self.final) if self.final is not None else self.measuring

    def html(self) -> str:
        if self.final is not None:
            return self.final._repr_html_()
        return render("live_report.html.j2", text=self.measuring)


class PeakReportWidget(_ReportWidget):
    """A %%peakmem report: figures, memory chart, recommendation, launch and copy buttons.

    Made with a report, or live: ``PeakReportWidget()`` shows current and peak memory as
    ``progress(current, peak)`` is called, until ``finish(report)``.
    """

    _model_name = Unicode("PeakReportModel").tag(sync=True)
    _view_name = Unicode("PeakReportView").tag(sync=True)
    # Arrow IPC stream, columns t (seconds) and rss (bytes); bounded before it is sent.
    timeline = Bytes().tag(sync=True)
    measuring = "Measuring peak memory..."

    def progress(self, current: int, peak: int) -> None:
        """Show the figures of a running measurement (called from the meter's thread)."""
        self._show_live({"current": current, "peak": peak})

    def finish(self, report: Any) -> None:
        with self.hold_sync():
            self.timeline = encode_timeline(bound_timeline(report.timeline))
            super().finish(report)

    def _data(self, report: Any) -> dict[str, Any]:
        data = report.to_dict()
        data.pop("timeline", None)  # sent as Arrow
        return data


class ProfileReportWidget(_ReportWidget):
    """A profile_partitions report: the table per partition, worker peak against partition
    size with the fitted line and the memory limit, the recommendation and its buttons.

    Live: ``progress({"partition", "of", "label", "current", "peak"})`` while partitions
    run in the probe worker, until ``finish(report)``.
    """

    _model_name = Unicode("ProfileReportModel").tag(sync=True)
    _view_name = Unicode("ProfileReportView").tag(sync=True)
    measuring = "Profiling partitions in a probe worker..."

    def progress(self, state: Mapping[str, Any]) -> None:
        """Show which partition runs and the worker's memory (called while it runs)."""
        figures = {
            name: state[name]
            for name in ("partition", "of", "label", "current", "peak")
            if name in state
        }
        self._show_live(figures, force=bool(state.get("done")))
