"""Reports as plain data with text and HTML views: PeakReport (one peak-memory measurement,
``%%peakmem``) and ProfileReport (``profile_partitions``)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from dask.utils import format_bytes

from .recommend import Recommendation, counted
from .render import render, signed_bytes


def cluster_line(recommendation: Recommendation) -> str:
    """``2 workers x 1 thread, memory_limit=4.00 GiB``: the recommended cluster in one line."""
    r = recommendation
    return (
        f"{counted(r.n_workers, 'worker')} x {counted(r.threads_per_worker, 'thread')}, "
        f"memory_limit={format_bytes(r.memory_limit)}"
    )


METHOD_LABELS = {
    "hwm": "exact: the kernel's high-water mark of this process",
    "sampled": "sampled: short spikes between samples can be missed",
}
CHART_WIDTH, CHART_HEIGHT = 320, 64


def text_tail(figures, recommendation, warnings) -> list[str]:
    """The text report's figures, recommended cluster with its reasons, and warnings."""
    lines = [f"  {name:<14}{value}" for name, value in figures]
    if recommendation:
        lines.append(f"Recommended cluster: {cluster_line(recommendation)}")
        for reason in recommendation.rationale.splitlines():
            lines += textwrap.wrap(reason, 96, initial_indent="  ", subsequent_indent="    ")
    for warning in warnings:
        lines += textwrap.wrap(warning, 96, initial_indent="! ", subsequent_indent="  ")
    return lines


@dataclass
class PeakReport:
    """Peak memory of one run. Byte counts are ints, times are seconds.

    ``timeline`` holds ``(seconds since start, RSS bytes)`` pairs, at most about 2,000.
    ``result`` is the value the measured code returned (not part of ``to_dict()``).
    """

    peak: int
    baseline: int
    increment: int
    retained: int
    duration: float
    method: str
    timeline: list[tuple[float, int]]
    children_peak: int
    recommendation: Recommendation | None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    # Data the cell used that was loaded before it: [{name, kind, nbytes, rows, nested_rows}].
    inputs: list[dict] = field(default_factory=list)
    worker_base: int | None = None  # a worker's own memory, as the recommendation counted it
    result: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready plain data (what a live widget or a REST call would send)."""
        return {
            "peak": self.peak,
            "baseline": self.baseline,
            "increment": self.increment,
            "retained": self.retained,
            "duration": self.duration,
            "method": self.method,
            "timeline": [[t, rss] for t, rss in self.timeline],
            "children_peak": self.children_peak,
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "warnings": list(self.warnings),
            "error": self.error,
            "inputs": [dict(item) for item in self.inputs],
            "worker_base": self.worker_base,
        }

    def _figures(self) -> list[tuple[str, str]]:
        children = format_bytes(self.children_peak) if self.children_peak else "none"
        return [
            ("Peak", format_bytes(self.peak)),
            ("Increment", signed_bytes(self.increment)),
            ("Baseline", format_bytes(self.baseline)),
            ("Retained", signed_bytes(self.retained)),
            ("Children peak", children),
            ("Duration", f"{self.duration:.3f} s"),
        ] + self._input_figures()

    def _input_figures(self) -> list[tuple[str, str]]:
        if not self.inputs:
            return []
        names = ", ".join(f"{item['name']} ({item['kind']})" for item in self.inputs)
        total = sum(item["nbytes"] for item in self.inputs)
        return [("Inputs", f"{format_bytes(total)} loaded before: {names}")]

    def __repr__(self) -> str:
        lines = [f"Peak memory ({METHOD_LABELS.get(self.method, self.method)})"]
        if self.error:
            lines.append(f"  stopped by {self.error}; figures cover the run until then")
        lines += text_tail(self._figures(), self.recommendation, self.warnings)
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text("PeakReport(...)" if cycle else repr(self))

    def _repr_html_(self) -> str:
        r = self.recommendation
        return render(
            "peak_report.html.j2",
            method=METHOD_LABELS.get(self.method, self.method),
            error=self.error,
            rows=self._figures(),
            chart=self._chart(),
            recommendation=cluster_line(self.recommendation) if r else None,
            rationale=r.rationale.splitlines() if r else [],
            warnings=self.warnings,
        )

    def _chart(self) -> dict[str, Any] | None:
        """RSS over time for peak_chart.html.j2: the line's points and the peak's height."""
        if len(self.timeline) < 2:
            return None
        end = max(self.timeline[-1][0], 1e-9)
        top = max(self.peak, *(rss for _, rss in self.timeline), 1)

        def y(rss: int) -> float:  # from zero, so a small increment looks small
            return CHART_HEIGHT - 2 - rss / top * (CHART_HEIGHT - 4)

        return {
            "width": CHART_WIDTH,
            "height": CHART_HEIGHT,
            "duration": self.duration,
            "peak": self.peak,
            "peak_y": y(self.peak),
            "points": " ".join(
                f"{t / end * CHART_WIDTH:.1f},{y(rss):.1f}" for t, rss in self.timeline
            ),
        }


# ---------------------------------------------------------------- profile_partitions

PROFILE_METHOD_LABELS = {
    "hwm": "exact: each partition's high-water mark of a probe worker process",
    "sampled": "sampled: short spikes between samples can be missed",
}
PROFILE_COLUMNS = (  # (column, heading, format)
    ("label", "Partition", str),
    ("rows", "Rows", lambda v: f"{int(v):,}"),
    ("nested_rows", "Nested rows", lambda v: f"{int(v):,}"),
    ("memory", "Memory (estimated)", lambda v: format_bytes(int(v))),
    ("bytes", "Bytes", lambda v: format_bytes(int(v))),
    ("loaded", "Loaded (measured)", lambda v: format_bytes(int(v))),
    ("peak", "Worker peak", lambda v: format_bytes(int(v))),
    ("duration", "Duration", lambda v: f"{v:.3f} s"),
)
SCATTER_WIDTH, SCATTER_HEIGHT = 320, 120


@dataclass
class ProfileReport:
    """What ``profile_partitions`` measured: one row per profiled partition, the worker's
    base, the fitted model, the largest need and the recommended cluster.

    ``partitions`` columns: label, partition, rows, nested_rows (nested data), memory
    (estimated, what the model uses), loaded (deep memory once loaded, measured), peak
    (the worker's exact peak), start (its memory before), load_seconds, fn_seconds,
    duration. ``cost`` holds seconds: total, sizes, probe_start, probe_close and runs (the
    partitions' own load and fn time in the worker).
    """

    partitions: Any  # pandas DataFrame
    worker_base: int
    model: Any  # check.PeakModel
    largest: dict
    recommendation: Recommendation | None
    warnings: list[str] = field(default_factory=list)
    method: str = "hwm"
    cost: dict = field(default_factory=dict)
    n_partitions: int = 0

    def to_dict(self) -> dict:
        """JSON-ready plain data (what the live widget sends)."""
        rows = self.partitions.to_dict(orient="records")
        return {
            "partitions": [{key: plain(value) for key, value in row.items()} for row in rows],
            "columns": [c for c, _, _ in PROFILE_COLUMNS if c in self.partitions],
            "worker_base": self.worker_base,
            "model": self.model.to_dict(),
            "largest": dict(self.largest),
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "warnings": list(self.warnings),
            "method": self.method,
            "cost": dict(self.cost),
            "n_partitions": self.n_partitions,
            "meaning": dict(self.partitions.attrs.get("meaning", {})),
        }

    def measured_peaks(self) -> dict:
        """The exact worker peak of each profiled partition, by label."""
        return dict(zip(self.partitions["label"], self.partitions["peak"], strict=True))

    def _columns(self) -> list[tuple[str, str, Any]]:
        return [c for c in PROFILE_COLUMNS if c[0] in self.partitions]

    def _figures(self) -> list[tuple[str, str]]:
        model, largest, cost = self.model, self.largest, self.cost
        profiled = "profiled" if largest.get("profiled") else "not profiled: predicted"
        runs = cost.get("runs", 0.0)
        return [
            ("Worker base", f"{format_bytes(self.worker_base)} (at rest, imports included)"),
            (
                "Model",
                f"peak = {format_bytes(int(model.base))} + {model.per_unit:.2f} x {model.column}",
            ),
            (
                "Largest need",
                f"{format_bytes(largest['predicted_peak'])} on [{largest['label']}] ({profiled})",
            ),
            (
                "Cost",
                f"{cost.get('total', 0.0):.1f} s in all (probe start "
                f"{cost.get('probe_start', 0.0):.1f} s); the partitions' own runs {runs:.1f} s",
            ),
        ]

    def _head(self) -> str:
        return (
            f"Profile of {len(self.partitions)} of {self.n_partitions} partitions "
            f"({PROFILE_METHOD_LABELS.get(self.method, self.method)})"
        )

    def __repr__(self) -> str:
        columns = self._columns()
        table = [[heading for _, heading, _ in columns]]
        table += [
            [form(row[name]) for name, _, form in columns] for _, row in self.partitions.iterrows()
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
        lines = [self._head()]
        lines += [
            "  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            for line in table
        ]
        lines += text_tail(self._figures(), self.recommendation, self.warnings)
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text("ProfileReport(...)" if cycle else repr(self))

    def _repr_html_(self) -> str:
        r = self.recommendation
        columns = self._columns()
        return render(
            "profile_report.html.j2",
            head=self._head(),
            headings=[heading for _, heading, _ in columns],
            table=[
                [form(row[n]) for n, _, form in columns] for _, row in self.partitions.iterrows()
            ],
            rows=self._figures(),
            chart=self._chart(),
            recommendation=cluster_line(self.recommendation) if r else None,
            rationale=r.rationale.splitlines() if r else [],
            warnings=self.warnings,
        )

    def _chart(self) -> dict[str, Any]:
        """Worker peak against partition size for profile_chart.html.j2: the points, the
        fitted line and the memory limit."""
        column = self.model.column
        xs = [float(x) for x in self.partitions[column]] + [float(self.largest[column])]
        limit = self.recommendation.memory_limit if self.recommendation else 0
        right = max(xs) * 1.05 or 1.0
        top = max([float(p) for p in self.partitions["peak"]] + [limit, 1.0]) * 1.05

        def at(x: float, y: float) -> tuple[str, str]:
            return (
                f"{x / right * SCATTER_WIDTH:.1f}",
                f"{SCATTER_HEIGHT - y / top * SCATTER_HEIGHT:.1f}",
            )

        fit = [at(0, self.model.base), at(right, self.model.base + self.model.per_unit * right)]
        return {
            "width": SCATTER_WIDTH,
            "height": SCATTER_HEIGHT,
            "column": column,
            "count": len(self.partitions),
            "limit": limit,
            "limit_y": at(0, limit)[1],
            "fit": " ".join(",".join(point) for point in fit),
            "points": [
                at(x, y)
                for x, y in zip(self.partitions[column], self.partitions["peak"], strict=True)
            ],
        }


def plain(value: Any) -> Any:
    """NumPy scalars as Python ones, for JSON."""
    return value.item() if hasattr(value, "item") else value
