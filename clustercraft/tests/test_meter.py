"""The peak meter against ground truth: touched numpy allocations of known size."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import clustercraft
from clustercraft.sizing.meter import METHOD_ENV, PeakMeter, Timeline
from clustercraft.tests.groundtruth import GiB, MiB, hold, in_thread, tolerance

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux")


def one_c_call(nbytes: int) -> None:
    """np.dot copies a non-BLAS-able strided matrix into a temporary and frees it, all in C."""
    rows = nbytes // (8 * 1024)
    strided = np.ones((rows, 2048))[:, ::2]  # allocated before the measurement
    vector = np.ones(1024)
    np.dot(strided[:4], vector)  # warm BLAS up outside the measurement
    with clustercraft.peak_memory() as meter:
        np.dot(strided, vector)
    return meter.report


def no_meter_threads() -> bool:
    return not any(t.name == "clustercraft-peakmem" for t in threading.enumerate())


@linux_only
@pytest.mark.parametrize(
    ("where", "nbytes", "seconds"),
    [
        (hold, 32 * MiB, 0.0),
        (hold, 256 * MiB, 0.1),
        (hold, 2 * GiB, 0.0),
        (in_thread, 64 * MiB, 0.3),
        (in_thread, 512 * MiB, 0.0),
    ],
    ids=[
        "main-32MiB-0ms",
        "main-256MiB-100ms",
        "main-2GiB-0ms",
        "thread-64MiB-300ms",
        "thread-512MiB-0ms",
    ],
)
def test_exact_increment(where, nbytes: int, seconds: float) -> None:
    with clustercraft.peak_memory() as meter:
        where(nbytes, seconds)
    report = meter.report
    assert report.method == "hwm"
    assert abs(report.increment - nbytes) <= tolerance(nbytes), report
    assert report.peak == report.baseline + report.increment
    assert abs(report.retained) <= tolerance(nbytes)  # freed before the end
    assert report.duration >= seconds
    assert no_meter_threads()


@linux_only
def test_spike_inside_one_c_call() -> None:
    report = one_c_call(128 * MiB)
    assert abs(report.increment - 128 * MiB) <= tolerance(128 * MiB), report


def test_retained_counts_what_the_block_keeps() -> None:
    with clustercraft.peak_memory() as meter:
        kept = np.ones(64 * MiB // 8)
    assert abs(meter.report.retained - 64 * MiB) <= tolerance(64 * MiB)
    del kept


def test_forced_sampled_fallback_sees_a_held_allocation(monkeypatch) -> None:
    switch = sys.getswitchinterval()
    monkeypatch.setenv(METHOD_ENV, "sampled")
    with clustercraft.peak_memory() as meter:
        hold(256 * MiB, 0.3)
    report = meter.report
    assert report.method == "sampled"
    assert any("short" in w or "missed" in w for w in report.warnings)
    assert abs(report.increment - 256 * MiB) <= tolerance(256 * MiB), report
    assert sys.getswitchinterval() == switch  # restored
    assert no_meter_threads()


def test_method_argument_forces_sampling_and_is_checked() -> None:
    with PeakMeter(method="sampled") as meter:
        pass
    assert meter.report.method == "sampled"
    with pytest.raises(ValueError, match="method"):
        PeakMeter(method="guess")


@linux_only
def test_child_process_shows_in_children_peak() -> None:
    code = "import numpy as np, time; a = np.ones(256 * 2**20 // 8); time.sleep(1)"
    with clustercraft.peak_memory() as meter:
        subprocess.run([sys.executable, "-c", code], check=True)
    report = meter.report
    assert 256 * MiB <= report.children_peak <= 256 * MiB + 128 * MiB, report
    assert report.increment < 16 * MiB  # the child's memory is not the kernel's


@linux_only
def test_children_started_before_are_not_counted() -> None:
    code = "import numpy as np, sys, time; a = np.ones(64 * 2**20 // 8); print(1, flush=True); time.sleep(5)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        child.stdout.readline()  # allocated
        with clustercraft.peak_memory() as meter:
            time.sleep(0.3)  # long enough for a child poll
    finally:
        child.kill()
        child.wait()
    assert meter.report.children_peak == 0


def test_exception_still_reports_and_propagates() -> None:
    meter = clustercraft.peak_memory()
    with pytest.raises(ZeroDivisionError), meter:
        block = np.ones(64 * MiB // 8)
        block[0] = 1 / 0
    report = meter.report
    assert report.error == "ZeroDivisionError"
    assert abs(report.increment - 64 * MiB) <= tolerance(64 * MiB)
    assert "stopped by ZeroDivisionError" in repr(report)
    assert no_meter_threads()


def test_interrupt_still_reports_and_propagates() -> None:
    meter = clustercraft.peak_memory()
    with pytest.raises(KeyboardInterrupt), meter:
        raise KeyboardInterrupt
    assert meter.report.error == "KeyboardInterrupt"
    with clustercraft.peak_memory() as again:  # nothing left locked
        pass
    assert again.report.error is None


def test_nesting_is_a_clear_error_and_leaves_the_outer_intact() -> None:
    with clustercraft.peak_memory() as outer:
        with pytest.raises(RuntimeError, match="nested"), clustercraft.peak_memory():
            pass
        hold(32 * MiB, 0)
    assert abs(outer.report.increment - 32 * MiB) <= tolerance(32 * MiB)
    assert no_meter_threads()


def test_measure_returns_the_report_and_the_result() -> None:
    report = clustercraft.measure(lambda n: np.ones(n).sum(), 32 * MiB // 8)
    assert report.result == 32 * MiB // 8
    assert abs(report.increment - 32 * MiB) <= tolerance(32 * MiB)


def test_measure_notes_the_peak_on_the_exception() -> None:
    def fails() -> None:
        np.ones(32 * MiB // 8)
        raise ValueError("boom")

    with pytest.raises(ValueError) as raised:
        clustercraft.measure(fails)
    assert any("increment" in note for note in getattr(raised.value, "__notes__", ["increment"]))


def test_progress_is_called_from_the_sampler() -> None:
    calls: list[tuple[int, int, str]] = []

    def progress(current: int, peak: int) -> None:
        calls.append((current, peak, threading.current_thread().name))

    with clustercraft.peak_memory(progress=progress) as meter:
        hold(64 * MiB, 0.5)
    assert 1 <= len(calls) <= 4, calls  # about every 0.2 s
    assert all(peak >= current > 0 and name != "MainThread" for current, peak, name in calls)
    assert max(peak for _, peak, _ in calls) <= meter.report.peak


def test_timeline_is_bounded_and_keeps_the_peak() -> None:
    timeline = Timeline(max_points=2000, interval=0.001)
    for i in range(100_000):
        timeline.add(i * 0.001, 10**9 if i == 77_777 else i)
    assert len(timeline.points) < 2000
    assert max(rss for _, rss in timeline.points) == 10**9
    assert timeline.interval > 0.001
    times = [t for t, _ in timeline.points]
    assert times == sorted(times)


def test_meter_timeline_spans_the_run() -> None:
    with clustercraft.peak_memory(timeline_points=40) as meter:
        hold(32 * MiB, 0.4)
    points = meter.report.timeline
    assert len(points) < 40
    assert points[0] == (0.0, meter.report.baseline)
    assert points[-1][0] == pytest.approx(meter.report.duration)
    assert max(rss for _, rss in points) > meter.report.baseline + 16 * MiB


def test_report_to_dict_has_the_contract_fields() -> None:
    with clustercraft.peak_memory(n_workers=3) as meter:
        pass
    data = meter.report.to_dict()
    assert {
        "peak",
        "baseline",
        "increment",
        "retained",
        "duration",
        "method",
        "timeline",
        "children_peak",
        "recommendation",
        "warnings",
    } <= set(data)
    assert {"n_workers", "threads_per_worker", "memory_limit", "rationale"} <= set(
        data["recommendation"]
    )
    assert data["recommendation"]["n_workers"] == 3
    assert "<svg" in meter.report._repr_html_() and "<table>" in meter.report._repr_html_()


def test_bad_options_fail_before_anything_runs() -> None:
    for options in (
        {"factor": 0.5},
        {"factor": float("nan")},
        {"factor": float("inf")},
        {"n_workers": 0},
        {"memory_available": "lots"},
        {"memory_available": "1e400"},
        {"memory_available": float("inf")},
        {"cores": -1},
        {"worker_base": "-1MiB"},
    ):
        with pytest.raises(ValueError, match=next(iter(options))):
            clustercraft.peak_memory(**options)
    assert no_meter_threads()


@linux_only
def test_child_still_alive_at_the_end_is_counted() -> None:
    code = "import numpy as np, time; a = np.ones(128 * 2**20 // 8); print(1, flush=True); time.sleep(5)"
    with clustercraft.peak_memory() as meter:
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        child.stdout.readline()  # allocated; the block ends before the child does
    child.kill()
    child.wait()
    assert 128 * MiB <= meter.report.children_peak <= 128 * MiB + 96 * MiB


@linux_only
@pytest.mark.parametrize("gc_collect", [True, False])
def test_gc_first_keeps_old_garbage_from_hiding_the_need(gc_collect: bool) -> None:
    """Why gc.collect() is the default: cyclic garbage from earlier cells, collected during
    the measured cell, hands its memory back and hides the cell's own need."""
    import gc

    class Holder:
        pass

    garbage = Holder()
    garbage.cycle = garbage
    garbage.block = np.ones(256 * MiB // 8)
    del garbage  # unreachable now, freed only by a collection
    with clustercraft.peak_memory(gc_collect=gc_collect) as meter:
        gc.collect()  # as an automatic collection would, at some point of a longer cell
        hold(256 * MiB, 0.0)
    increment = meter.report.increment
    if gc_collect:
        assert abs(increment - 256 * MiB) <= tolerance(256 * MiB), meter.report
    else:
        assert increment < 64 * MiB, meter.report  # the need went unseen


@linux_only
def test_freed_heap_is_given_back_so_the_increment_is_stable() -> None:
    """Memory the allocator kept after an earlier cell freed it would be reused without
    raising RSS: malloc_trim before the baseline makes each run count its own need."""

    def cell() -> list:
        return [bytes(1000) for _ in range(200_000)]  # ~200 MiB of malloc'd blocks

    increments = []
    for _ in range(3):
        kept = cell()
        survivor = [bytes(1000) for _ in range(8)]  # above the freed blocks: no auto-trim
        del kept
        with clustercraft.peak_memory() as meter:
            again = cell()
        increments.append(meter.report.increment)
        del again, survivor
    assert max(increments) - min(increments) <= tolerance(max(increments)), increments
    assert min(increments) > 150 * MiB, increments
