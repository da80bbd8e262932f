"""PeakReport: what one peak-memory measurement found, as plain data with text and HTML views."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field
from typing import Any

from dask.utils import format_bytes

from .sizing import Recommendation

METHOD_LABELS = {
    "hwm": "exact: the kernel's high-water mark of this process",
    "sampled": "sampled: short spikes between samples can be missed",
}
CHART_WIDTH, CHART_HEIGHT = 320, 64


def signed_bytes(n: int) -> str:
    return "-" + format_bytes(-n) if n < 0 else format_bytes(n)


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

    def _cluster_line(self) -> str:
        r = self.recommendation
        return (
            f"{r.n_workers} worker(s) x {r.threads_per_worker} thread(s), "
            f"memory_limit={format_bytes(r.memory_limit)}"
        )

    def __repr__(self) -> str:
        lines = [f"Peak memory ({METHOD_LABELS.get(self.method, self.method)})"]
        if self.error:
            lines.append(f"  stopped by {self.error}; figures cover the run until then")
        lines += [f"  {name:<14}{value}" for name, value in self._figures()]
        if self.recommendation:
            lines.append(f"Recommended cluster: {self._cluster_line()}")
            for reason in self.recommendation.rationale.splitlines():
                lines += textwrap.wrap(reason, 96, initial_indent="  ", subsequent_indent="    ")
        for warning in self.warnings:
            lines += textwrap.wrap(warning, 96, initial_indent="! ", subsequent_indent="  ")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text("PeakReport(...)" if cycle else repr(self))

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left'>{esc(n)}</th><td>{esc(v)}</td></tr>"
            for n, v in self._figures()
        )
        parts = [
            "<div class='jp-ClusterCraft-peakReport'>",
            f"<strong>Peak memory</strong> <small>({esc(METHOD_LABELS.get(self.method, self.method))})</small>",
        ]
        if self.error:
            parts.append(f"<p>Stopped by {esc(self.error)}; figures cover the run until then.</p>")
        parts.append(f"<div style='display:flex;gap:1em;align-items:center'><table>{rows}</table>")
        parts.append(self._chart_svg() + "</div>")
        if self.recommendation:
            parts.append(
                f"<p><strong>Recommended cluster:</strong> {esc(self._cluster_line())}</p>"
                "<ul style='max-width:60em'>"
                + "".join(f"<li>{esc(r)}</li>" for r in self.recommendation.rationale.splitlines())
                + "</ul>"
            )
        if self.warnings:
            items = "".join(f"<li>{esc(w)}</li>" for w in self.warnings)
            parts.append(f"<ul class='jp-ClusterCraft-peakWarnings'>{items}</ul>")
        parts.append("</div>")
        return "".join(parts)

    def _chart_svg(self) -> str:
        """RSS over time as an inline SVG line, with the peak as a dashed line."""
        if len(self.timeline) < 2:
            return ""
        end = max(self.timeline[-1][0], 1e-9)
        top = max(self.peak, *(rss for _, rss in self.timeline), 1)

        def y(rss: int) -> float:  # from zero, so a small increment looks small
            return CHART_HEIGHT - 2 - rss / top * (CHART_HEIGHT - 4)

        points = " ".join(f"{t / end * CHART_WIDTH:.1f},{y(rss):.1f}" for t, rss in self.timeline)
        return (
            f"<svg width='{CHART_WIDTH}' height='{CHART_HEIGHT}' role='img' "
            f"aria-label='Memory over {self.duration:.2f} s, peak {esc_attr(format_bytes(self.peak))}'>"
            f"<line x1='0' x2='{CHART_WIDTH}' y1='{y(self.peak):.1f}' y2='{y(self.peak):.1f}' "
            "stroke='var(--jp-warn-color1, orange)' stroke-dasharray='4 3'/>"
            f"<polyline points='{points}' fill='none' "
            "stroke='var(--jp-brand-color1, steelblue)' stroke-width='1.5'/></svg>"
        )


def esc_attr(text: str) -> str:
    return html.escape(text, quote=True)
