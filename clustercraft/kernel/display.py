"""Display hooks: after ``%load_ext clustercraft`` Dask clients, clusters and peak reports show
as clustercraft's live widgets (with static HTML and text in the same bundle)."""

from __future__ import annotations

import weakref
from typing import Any

from IPython.display import display

# (module, class) whose instances (and subclasses') show as a live ClusterInfo.
CLUSTER_TYPES = (("distributed.client", "Client"), ("distributed.deploy.cluster", "Cluster"))
REPORT_TYPES = (
    ("clustercraft.sizing.report", "PeakReport"),
    ("clustercraft.sizing.report", "ProfileReport"),
)

# One live widget per client or cluster, so showing it twice does not start two updaters.
_cluster_widgets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def widgets_available(ipython: Any) -> bool:
    """True in a kernel that talks to a frontend (comms); False in a terminal IPython."""
    return getattr(ipython, "kernel", None) is not None


def register_display_hooks(ipython: Any) -> None:
    if not widgets_available(ipython):
        return  # a terminal: leave the usual text reprs alone
    formatter = ipython.display_formatter.ipython_display_formatter
    for module, name in CLUSTER_TYPES:
        formatter.for_type_by_name(module, name, show_cluster_info)
    for module, name in REPORT_TYPES:
        formatter.for_type_by_name(module, name, show_report)


def unregister_display_hooks(ipython: Any) -> None:
    formatter = ipython.display_formatter.ipython_display_formatter
    for module, name in (*CLUSTER_TYPES, *REPORT_TYPES):
        formatter.deferred_printers.pop((module, name), None)
    for printer in (show_cluster_info, show_report):
        for cls in [c for c, p in formatter.type_printers.items() if p is printer]:
            formatter.type_printers.pop(cls)


def cluster_info(client_or_cluster: Any):
    """The live ClusterInfo of a client or cluster, made once while it stays open."""
    from .widgets import ClusterInfo

    widget = _cluster_widgets.get(client_or_cluster)
    if widget is None or widget.comm is None or not widget.running:
        widget = _cluster_widgets[client_or_cluster] = ClusterInfo(client_or_cluster)
    return widget


def show_cluster_info(client_or_cluster: Any) -> None:
    try:
        widget = cluster_info(client_or_cluster)
    except Exception:  # not connected (yet, or any more): the usual repr says why
        display(_ReprOnly(client_or_cluster))
        return
    display(widget)


def show_report(report: Any) -> None:
    if LiveReport.shows(report):
        return  # the magic's (or call's) return value: its live widget shows it already
    from .widgets import PeakReportWidget, ProfileReportWidget

    widget = ProfileReportWidget if type(report).__name__ == "ProfileReport" else PeakReportWidget
    display(widget(report))


class LiveReport:
    """A report widget shown while its report is being made, then final, in place.

    ``progress`` feeds it (a meter's callback); ``finish(report)`` shows the final report and
    refreshes the saved output (nbconvert and GitHub then see the report, not "Measuring"),
    after which displaying that report shows nothing more; ``close()`` when none came.
    """

    _shown: weakref.ref | None = None  # the report the last finished live widget shows

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.progress = widget.progress
        self.handle = display(widget, display_id=True)

    @classmethod
    def peak(cls, ipython: Any, quiet: bool = False) -> LiveReport | None:
        """A live PeakReportWidget for ``%%peakmem``; None where widgets cannot show."""
        if quiet or not widgets_available(ipython):
            return None
        from .widgets import PeakReportWidget

        return cls(PeakReportWidget())

    @classmethod
    def profile(cls) -> LiveReport | None:
        """A live ProfileReportWidget for ``profile_partitions`` in a notebook (display hooks
        registered, so the returned report is not shown a second time); None elsewhere."""
        from IPython import get_ipython

        ipython = get_ipython()
        if ipython is None or not widgets_available(ipython):
            return None
        register_display_hooks(ipython)
        from .widgets import ProfileReportWidget

        return cls(ProfileReportWidget())

    @classmethod
    def shows(cls, report: Any) -> bool:
        return cls._shown is not None and cls._shown() is report

    def finish(self, report: Any) -> None:
        self.widget.finish(report)
        LiveReport._shown = weakref.ref(report)
        if self.handle is not None:
            self.handle.update(self.widget)

    def close(self) -> None:
        self.widget.close()


class _ReprOnly:
    """The object's own reprs, without our hooks (which would call us again)."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        bundle = {"text/plain": repr(self.obj)}
        if hasattr(self.obj, "_repr_html_"):
            bundle["text/html"] = self.obj._repr_html_()
        return bundle
