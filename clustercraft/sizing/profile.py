"""profile_partitions: what a worker really needs, measured in a real worker.

For the largest partitions (by estimated memory), a probe worker (one Dask worker process
started from this kernel's Python, see ``probe.py``) loads the partition and runs ``fn`` on
it as one task, under the peak meter of its own process: the exact high-water mark, reset
before each partition. So the worker's own memory, its imports, reading the partition and
``fn`` are all in the peak, as they will be on the cluster. A line fitted through the
worker's base and the measured peaks, against the partitions' estimated memory, predicts
every other partition; the cluster is sized for the largest need.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from dask.utils import format_bytes

from .check import PeakModel
from .launch import place
from .meter import PeakMeter, read_status, release_memory
from .partitions import (
    check_n,
    nested_rows,
    partition_frame,
    partition_sizes,
    resolve,
    size_column,
    sorted_sizes,
)
from .recommend import SizingOptions, counted, size_cluster
from .report import ProfileReport, plain

__all__ = ["profile_partitions"]

ProfileProgress = Callable[[dict], None]  # {"partition", "of", "label", "current", "peak"}


def run_partition(collection: Any, fn: Callable, method: str) -> dict:
    """(In the probe worker) load one partition and run ``fn`` on it under the peak meter."""
    release_memory()
    meter = PeakMeter(method=method, gc_collect=False)
    with meter:
        started = time.perf_counter()
        part = collection.compute(scheduler="sync")
        loaded = time.perf_counter()
        result = fn(part)
        done = time.perf_counter()
        del result  # held until here, as a task's output is until it is sent on
    report = meter.report
    figures = {
        "rows": len(part),
        "nested_rows": nested_rows(part),
        "loaded": int(np.sum(part.memory_usage(deep=True))),
    }
    del part
    release_memory()
    return figures | {
        "start": report.baseline,
        "peak": report.peak,
        "method": report.method,
        "load_seconds": loaded - started,
        "fn_seconds": done - loaded,
        "rest": read_status()["VmRSS"],  # the worker at rest again: imports and caches
    }


def _check_options(fn: Any, n: Any, method: str) -> None:
    if method not in ("auto", "hwm", "sampled"):
        raise ValueError(f"method must be 'auto', 'hwm' or 'sampled', not {method!r}")
    if not callable(fn):
        raise TypeError(f"fn must be a callable taking one partition; got {type(fn).__name__}")
    check_n(n)
    if n is None:
        raise ValueError("n must be a positive integer; got None")


def fit_model(points: pd.DataFrame, base: int, column: str) -> PeakModel:
    """Least squares line of peak against ``column`` through (0, ``base``)."""
    x = points[column].to_numpy(dtype="float64")
    y = points["peak"].to_numpy(dtype="float64") - base
    per_unit = float(np.dot(x, y) / np.dot(x, x)) if np.dot(x, x) > 0 else 0.0
    per_unit = max(per_unit, 0.0)
    return PeakModel(
        column,
        float(base),
        per_unit,
        f"profile_partitions: worker peaks of {counted(len(points), 'partition')} measured in a probe "
        f"worker, {format_bytes(base)} base + {per_unit:.2f} x {column}",
    )


def _text_progress(state: dict) -> None:
    if state.get("done"):
        print(
            f"  partition {state['partition']} of {state['of']} [{state['label']}]: worker "
            f"peak {format_bytes(state['peak'])}",
            file=sys.stderr,
            flush=True,
        )


def profile_partitions(
    obj: Any,
    fn: Callable,
    n: int = 3,
    *,
    factor: float | None = None,
    workers: int | None = None,
    memory_available: int | str | None = None,
    cores: int | None = None,
    profile: str | None = None,
    method: str = "auto",
    progress: bool | ProfileProgress = True,
) -> ProfileReport:
    """Run ``fn`` on the ``n`` largest partitions of ``obj`` in a real Dask worker process and
    size the cluster from the worker's exact peaks.

    ``obj`` is an LSDB catalog, a path to HATS or Parquet data, or a Dask DataFrame; ``fn``
    takes one partition, as in ``map_partitions``. The partitions are the largest by
    estimated memory (``largest_partitions``); each is loaded and processed in a probe
    worker (one worker, one thread, no memory limit, this kernel's Python) started and
    closed by this call. Returns a ``ProfileReport``: a table per partition, the worker's
    base, the fitted memory model and ``recommendation``. ``factor``, ``workers``,
    ``memory_available``, ``cores`` and ``profile`` shape the recommendation as for
    ``%%peakmem``. In a notebook a live widget shows progress, then the report.
    """
    started = time.perf_counter()
    _check_options(fn, n, method)
    try:
        sizing = SizingOptions(
            factor=factor,
            n_workers=workers,
            memory_available=memory_available,
            cores=cores,
            profile=profile,
        )
    except ValueError as error:  # named as this function's argument
        raise ValueError(str(error).replace("n_workers ", "workers ", 1)) from None
    target = resolve(obj)
    sizes = partition_sizes(target, progress=bool(progress))
    column = size_column(sizes)
    picks = sorted_sizes(sizes, column).head(int(n))
    sized = time.perf_counter()

    live = _live_report() if progress is True else None
    report_progress = live.progress if live is not None else progress
    if report_progress is True:
        report_progress = _text_progress
    try:
        runs, probe_start, probe_close = _profile(target, fn, picks, method, report_progress)
    except BaseException:
        if live is not None:
            live.close()
        raise
    report = _report(sizes, picks, runs, column, time.perf_counter() - started)
    report.cost |= {
        "sizes": sized - started,
        "probe_start": probe_start,
        "probe_close": probe_close,
    }
    report.recommendation = _recommend(report, sizing)
    place(report.recommendation, sizing.on_profile)
    report.warnings += report.recommendation.warnings
    if live is not None:
        live.finish(report)
    return report


def _profile(target, fn, picks: pd.DataFrame, method: str, progress) -> tuple[list, float, float]:
    from .probe import ProbeCluster

    runs = []
    probe = ProbeCluster()
    with probe:
        for i, (_, row) in enumerate(picks.iterrows(), start=1):
            state = {"partition": i, "of": len(picks), "label": str(row["label"])}

            def show(current: int, peak: int, state=state) -> None:
                progress(state | {"current": current, "peak": peak})

            collection = partition_frame(target, row["label"])
            try:
                run = probe.submit(
                    run_partition, collection, fn, method, progress=show if progress else None
                )
            except Exception as error:
                error.add_note(
                    f"clustercraft.profile_partitions: raised loading partition {row['label']} "
                    "and running fn on it, in the probe worker (now closed)"
                )
                raise
            runs.append(run)
            if progress:
                # At rest the worker may hold a little more than its peak under fn (imports
                # done after the meter stopped): the figures shown never have current > peak.
                shown_peak = max(run["peak"], run["rest"])
                progress(state | {"current": run["rest"], "peak": shown_peak, "done": True})
    return runs, probe.start_seconds, probe.close_seconds


def _report(sizes, picks, runs: list[dict], column: str, elapsed: float) -> ProfileReport:
    measured = pd.DataFrame(runs)
    table = picks[[c for c in ("label", "partition", "rows", "nested_rows", column) if c in picks]]
    table = table.reset_index(drop=True).assign(
        loaded=measured["loaded"],
        peak=measured["peak"],
        start=measured["start"],
        load_seconds=measured["load_seconds"],
        fn_seconds=measured["fn_seconds"],
        duration=measured["load_seconds"] + measured["fn_seconds"],
    )
    table.attrs.update(sizes.attrs)
    # The worker at rest after a partition (imports done, data released); a partition of
    # no size needs no more than the smallest measured one.
    base = int(min(measured["rest"].min(), measured["peak"].min()))
    model = fit_model(table, base, column)
    # Profiled partitions need what they were measured to need, others what the model says.
    needs = pd.Series(model.predict(sizes), index=sizes["partition"])
    profiled = needs.index.isin(table["partition"])
    needs[table["partition"].to_numpy()] = table["peak"].to_numpy()
    largest = int(needs[profiled].idxmax())
    if (~profiled).any() and needs[~profiled].max() > needs[largest]:
        largest = int(needs[~profiled].idxmax())
    largest_row = sizes.set_index("partition").loc[largest]
    warnings = []
    if not (table["partition"] == largest).any():
        warnings.append(
            f"Partition [{largest_row['label']}] was not profiled, but the model predicts it "
            "needs the most: profile it too (more partitions, n) to be sure."
        )
    methods = set(measured["method"])
    return ProfileReport(
        partitions=table,
        worker_base=base,
        model=model,
        largest={
            "label": plain(largest_row["label"]),
            "partition": largest,
            column: int(largest_row[column]),
            "predicted_peak": int(np.ceil(needs[largest])),
            "profiled": bool((table["partition"] == largest).any()),
        },
        recommendation=None,
        warnings=warnings,
        method="hwm" if methods == {"hwm"} else "sampled",
        cost={"total": elapsed, "runs": float(table["duration"].sum())},
        n_partitions=len(sizes),
    )


def _recommend(report: ProfileReport, sizing: SizingOptions):
    largest = report.largest
    how = (
        "measured"
        if largest["profiled"]
        else f"predicted by the model fitted on {counted(len(report.partitions), 'partition')}"
    )
    need_line = (
        f"Need per worker: {format_bytes(largest['predicted_peak'])}, the peak of a Dask worker "
        f"on the largest partition [{largest['label']}], {how} in a probe worker: its own "
        f"{format_bytes(report.worker_base)} (imports included), reading the partition and fn."
    )
    return size_cluster(
        largest["predicted_peak"],
        need_line,
        reserved=read_status()["VmRSS"],  # this kernel stays up beside a local cluster
        **sizing.shape(),
    )


def _live_report():
    """In a notebook, the kernel's live widget (the one way this library reaches IPython)."""
    try:
        from ..kernel.display import LiveReport
    except ImportError:  # no IPython: progress goes to stderr
        return None
    return LiveReport.profile()
