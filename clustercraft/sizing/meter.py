"""PeakMeter: the exact peak memory of a block of code, its child processes, and a timeline.

On Linux the kernel keeps a high-water mark of each process's RSS (``VmHWM``); writing "5" to
``/proc/self/clear_refs`` resets it to the current RSS. Reset, run, read: every thread and
every native allocation is counted, with no sampling gap and next to no cost. Elsewhere (or
when forced) a sampler thread reads RSS every 2 ms instead, and says that it may miss spikes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import psutil

from .report import PeakReport

ProgressCallback = Callable[[int, int], None]  # (current RSS, peak so far), bytes

METHOD_ENV = "CLUSTERCRAFT_PEAKMEM_METHOD"  # "sampled" forces the fallback, e.g. in tests
CLEAR_REFS = "/proc/self/clear_refs"
RESET_HWM = b"5"
RESET_SLACK = 2**20  # after a reset VmHWM must be within this of VmRSS
RESET_ATTEMPTS = 3
SAMPLE_INTERVAL = 0.002  # sampled method: RSS reads per second = 500
SAMPLED_SWITCH_INTERVAL = 0.001  # so the sampler gets the GIL within ~1 ms of asking
TICK_INTERVAL = 0.2  # progress callback
CHILD_POLL_INTERVAL = 0.4  # a process-table scan costs ~1 ms, only made when we have children
TIMELINE_POINTS = 2000
TIMELINE_INTERVAL = 0.02  # 2,000 points last 40 s, then the interval doubles
SAMPLED_NOTE = (
    "Sampled every {interval:g} ms: the kernel's high-water mark could not be reset here "
    "({why}), so allocations shorter than that can be missed."
)

_running = threading.Lock()  # the high-water mark is per process, so one meter at a time
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_LINUX = sys.platform.startswith("linux")


def measuring() -> bool:
    """True while a peak meter runs in this process (the high-water mark is taken)."""
    return _running.locked()


def read_status(pid: int | str = "self") -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of a process from ``/proc/<pid>/status``, in bytes."""
    found = {}
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith((b"VmRSS:", b"VmHWM:")):
                key, value = line.split(b":")
                found[key.decode()] = int(value.split()[0]) * 1024
    return found


def _malloc_trim() -> Callable[[int], int] | None:
    if not _LINUX:
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # glibc only; musl has no such function
    except (OSError, AttributeError):
        return None


_trim = _malloc_trim()


def release_memory() -> None:
    """Collect garbage, then give freed heap pages back to the OS (glibc ``malloc_trim(0)``).

    Freed memory that the allocator keeps would otherwise be reused by the measured code
    without raising RSS, so the same cell's increment would vary from run to run.
    """
    gc.collect()
    if _trim is not None:
        _trim(0)


def reset_hwm() -> dict[str, int] | None:
    """Reset this process's high-water mark; the status right after, or None if it did not take."""
    for _ in range(RESET_ATTEMPTS):
        try:
            with open(CLEAR_REFS, "wb", buffering=0) as f:
                f.write(RESET_HWM)
            status = read_status()
        except OSError:
            return None
        # Another thread allocating between the write and the read can spoil a check.
        if status["VmHWM"] - status["VmRSS"] <= RESET_SLACK:
            return status
    return None


class RssReader:
    """This process's current RSS, as cheaply as the platform allows (~1 us on Linux)."""

    def __init__(self) -> None:
        self._fd = os.open("/proc/self/statm", os.O_RDONLY) if _LINUX else None
        self._process = None if _LINUX else psutil.Process()

    def __call__(self) -> int:
        if self._fd is not None:
            return int(os.pread(self._fd, 128, 0).split()[1]) * _PAGE
        return self._process.memory_info().rss

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Timeline:
    """(seconds, RSS) points; when full, keeps the higher of each pair and halves its rate."""

    def __init__(self, max_points: int = TIMELINE_POINTS, interval: float = TIMELINE_INTERVAL):
        self.max_points = max_points
        self.interval = interval
        self.points: list[tuple[float, int]] = []

    def add(self, t: float, rss: int) -> None:
        self.points.append((t, rss))
        if len(self.points) >= self.max_points:
            first, rest = self.points[:1], self.points[1:]  # the start stays for the chart
            pairs = zip(rest[0::2], rest[1::2], strict=False)
            tail = rest[-1:] if len(rest) % 2 else []
            self.points = first + [max(a, b, key=lambda p: p[1]) for a, b in pairs] + tail
            self.interval *= 2


class ChildWatch:
    """Peak memory of the child processes started since this watch was created.

    Live children are polled for their own high-water marks (summed: an upper bound when
    they overlap); reaped ones show in ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, which
    only tells us something when it grew past its value at the start.
    """

    def __init__(self) -> None:
        self.since = _now_ticks() if _LINUX else time.time()
        _reap_dropped_popens()
        self.ru_start = _reaped_maxrss()
        self.hwm: dict[int, int] = {}
        self.peak = 0
        # Children that outlive cells (multiprocessing's resource tracker, a cluster's
        # workers): while these are all there are, a poll need not scan the process table.
        self.before = _direct_children()

    def poll(self) -> None:
        if not _has_children():
            return
        direct = _direct_children()
        if direct is not None and direct == self.before and not self.hwm:
            return
        try:
            children = psutil.Process().children(recursive=True)
        except psutil.Error:
            return
        alive = 0
        for child in children:
            try:
                if not self._is_new(child):
                    continue
                hwm = read_status(child.pid)["VmHWM"] if _LINUX else child.memory_info().rss
            except (OSError, KeyError, psutil.Error):
                continue  # gone, a zombie, or not ours to read
            self.hwm[child.pid] = max(hwm, self.hwm.get(child.pid, 0))
            alive += self.hwm[child.pid]
        self.peak = max(self.peak, alive)

    def finish(self, own_peak: int = 0) -> int:
        """The children's peak; ``own_peak`` is this process's peak over the same time.

        A child's ``ru_maxrss`` starts from its parent's RSS when it was started (exec keeps
        it), so a reaped maxrss not above our own peak may be ours, not the child's.
        """
        self.poll()  # children still alive at the end, for runs shorter than a tick
        reaped = _reaped_maxrss()
        if reaped > self.ru_start and reaped > own_peak:
            self.peak = max(self.peak, reaped)
        return self.peak

    def _is_new(self, child: psutil.Process) -> bool:
        if _LINUX:  # same clock as the kernel's start time, no 1 s boot-time rounding
            with open(f"/proc/{child.pid}/stat", "rb") as f:
                start = int(f.read().rsplit(b")", 1)[1].split()[19])
            return start >= self.since
        return child.create_time() >= self.since


def _reap_dropped_popens() -> None:
    """Reap earlier children whose Popen was dropped before they ended (a killed kernel, say).

    subprocess reaps them at its next Popen(); inside a measurement that would put their
    old peak into ``RUSAGE_CHILDREN``, read as this run's children's peak.
    """
    cleanup = getattr(subprocess, "_cleanup", None)
    if cleanup is not None:
        cleanup()


def _direct_children() -> set[int] | None:
    """This process's direct children, from /proc (~15 us); None where it cannot tell."""
    if not _LINUX:
        return None
    found: set[int] = set()
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", "rb") as f:
                found.update(int(pid) for pid in f.read().split())
    except (OSError, ValueError):
        return None
    return found


def _has_children() -> bool:
    """A ~1 us check that spares the ~1 ms process-table scan when there is nothing to find."""
    if not hasattr(os, "waitid"):
        return True
    try:  # WNOWAIT: look, reap nothing
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _now_ticks() -> int:
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))


def _reaped_maxrss() -> int:
    try:
        import resource
    except ImportError:  # Windows
        return 0
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


class Sampler(threading.Thread):
    """Background reader of RSS: every 2 ms in sampled mode, else only for the timeline."""

    def __init__(
        self,
        read_rss: RssReader,
        timeline: Timeline,
        children: ChildWatch,
        read_peak: Callable[[], int] | None,
        progress: ProgressCallback | None,
    ) -> None:
        super().__init__(name="clustercraft-peakmem", daemon=True)
        self.read_rss = read_rss
        self.timeline = timeline
        self.children = children
        self.read_peak = read_peak  # None: sampled mode, the peak is what we see
        self.progress = progress
        self.max_rss = 0
        self.cpu_seconds = 0.0
        self.t0 = time.perf_counter()
        self._done = threading.Event()

    def run(self) -> None:
        next_point = self.timeline.interval
        next_tick = TICK_INTERVAL
        next_child_poll = TICK_INTERVAL
        wait = SAMPLE_INTERVAL if self.read_peak is None else next_point
        while not self._done.wait(wait):
            now = time.perf_counter() - self.t0
            rss = self.read_rss()
            self.max_rss = max(self.max_rss, rss)
            if now >= next_point:
                self.timeline.add(now, rss)
                next_point = now + self.timeline.interval
            if now >= next_tick:
                if now >= next_child_poll:
                    self.children.poll()
                    next_child_poll = now + CHILD_POLL_INTERVAL
                self._progress(rss)
                next_tick = now + TICK_INTERVAL
            if self.read_peak is not None:
                wait = max(min(next_point, next_tick) - now, 0.0005)
        self.cpu_seconds = time.thread_time()  # the meter's own cost, for the benchmark

    def _progress(self, rss: int) -> None:
        if self.progress is None:
            return
        if self.read_peak is not None:
            self.max_rss = max(self.max_rss, self.read_peak())
        peak = self.max_rss
        try:
            self.progress(rss, peak)
        except Exception as error:  # a broken display must not stop the measurement
            self.progress = None
            print(f"clustercraft: progress callback disabled: {error!r}", file=sys.stderr)

    def stop(self) -> None:
        self._done.set()
        self.join()


class PeakMeter:
    """Measure the peak memory of a block: ``with PeakMeter() as m: ...``, then ``m.report``.

    ``method`` is "auto" (the high-water mark where it can be reset, else sampling), "hwm"
    (fail where it cannot) or "sampled"; the ``CLUSTERCRAFT_PEAKMEM_METHOD`` environment
    variable overrides "auto". ``gc_collect`` collects garbage and gives freed heap memory
    back to the OS before the baseline (``release_memory``). ``progress`` is called from a
    background thread about every 0.2 s with (current, peak) bytes. It measures only: the
    report's recommendation is made by ``peakmem.size_peak`` (``%%peakmem``, ``peak_memory()``
    and ``measure()`` call it).
    """

    def __init__(
        self,
        *,
        method: str = "auto",
        gc_collect: bool = True,
        progress: ProgressCallback | None = None,
        timeline_points: int = TIMELINE_POINTS,
    ) -> None:
        if method == "auto":
            method = os.environ.get(METHOD_ENV, "auto")
        if method not in ("auto", "hwm", "sampled"):
            raise ValueError(f"method must be 'auto', 'hwm' or 'sampled', not {method!r}")
        self.requested = method
        self.method = method  # what was used: "hwm" or "sampled" once started
        self.gc_collect = gc_collect
        self.progress = progress
        self.timeline_points = timeline_points
        self.report: PeakReport | None = None
        self._sampler: Sampler | None = None
        self._owns_lock = False

    def __enter__(self) -> PeakMeter:
        __tracebackhide__ = True
        self.start()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.stop(error)

    def start(self) -> None:
        __tracebackhide__ = True
        if not _running.acquire(blocking=False):
            raise RuntimeError(
                "peak_memory() is already measuring in this process: the high-water mark is "
                "per process, so measurements cannot be nested or run concurrently."
            )
        self._owns_lock = True
        try:
            self._start()
        except BaseException:
            self._cleanup()
            raise

    def _start(self) -> None:
        if self.gc_collect:
            release_memory()
        self.warnings: list[str] = []
        self._read_rss = RssReader()
        self._children = ChildWatch()
        self._timeline = Timeline(self.timeline_points)
        self.method = "hwm"
        status = None if self.requested == "sampled" else reset_hwm()
        if status is None:
            status = self._fall_back()
        self.baseline = status["VmRSS"]
        self._hwm_start = status.get("VmHWM", 0)
        self._timeline.add(0.0, self.baseline)
        self._sampler = Sampler(
            self._read_rss,
            self._timeline,
            self._children,
            _read_hwm if self.method == "hwm" else None,
            self.progress,
        )
        self._sampler.start()
        self._t0 = self._sampler.t0 = time.perf_counter()

    def _fall_back(self) -> dict[str, int]:
        """Switch to sampling; the status (what can be read of it) as the baseline."""
        if self.requested == "hwm":
            raise RuntimeError(f"cannot reset the kernel's high-water mark via {CLEAR_REFS}")
        why = "forced" if self.requested == "sampled" else f"{CLEAR_REFS} is not writable"
        self.warnings.append(SAMPLED_NOTE.format(interval=SAMPLE_INTERVAL * 1000, why=why))
        self._exact_if_record = self.requested == "auto"
        self.method = "sampled"
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SAMPLED_SWITCH_INTERVAL))
        try:
            return read_status()
        except OSError:
            return {"VmRSS": self._read_rss()}

    def stop(self, error: BaseException | None = None) -> PeakReport:
        if self._sampler is None:
            raise RuntimeError("this PeakMeter was not started")
        try:
            duration = time.perf_counter() - self._t0
            end = read_status() if _LINUX else {"VmRSS": self._read_rss()}
            self._sampler.stop()
            self.sampler_cpu = self._sampler.cpu_seconds
            self._timeline.add(duration, end["VmRSS"])
            self.report = self._report(duration, end, error)
            return self.report
        finally:
            self._cleanup()

    def _report(self, duration: float, end: dict[str, int], error: BaseException | None):
        peak = self._peak(end)
        return PeakReport(
            peak=peak,
            baseline=self.baseline,
            increment=peak - self.baseline,
            retained=end["VmRSS"] - self.baseline,
            duration=duration,
            method=self.method,
            timeline=self._timeline.points,
            children_peak=self._children.finish(own_peak=peak),
            recommendation=None,
            warnings=list(self.warnings),
            error=type(error).__name__ if error is not None else None,
        )

    def _peak(self, end: dict[str, int]) -> int:
        # The kernel's RSS counters are per-CPU approximations (a few hundred KiB), so an
        # earlier reading can top the final VmHWM: the peak is the highest of all readings.
        peak = max(self._sampler.max_rss, self.baseline, end["VmRSS"])
        if self.method == "hwm":
            return max(peak, end["VmHWM"])
        # A new lifetime record of the process is its exact peak, reset or not.
        record = end.get("VmHWM", 0)
        if self._exact_if_record and record > self._hwm_start:
            return max(peak, record)
        return peak

    def _cleanup(self) -> None:
        if self._sampler is not None and self._sampler.is_alive():
            self._sampler.stop()
        self._sampler = None
        if hasattr(self, "_switch_interval"):
            sys.setswitchinterval(self._switch_interval)
            del self._switch_interval
        if hasattr(self, "_read_rss"):
            self._read_rss.close()
        if self._owns_lock:
            self._owns_lock = False
            _running.release()


def _read_hwm() -> int:
    return read_status()["VmHWM"]
