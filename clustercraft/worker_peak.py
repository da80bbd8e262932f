"""WorkerPeak: every Dask worker reports its own peak memory in its heartbeat.

A worker plugin, so local and remote workers work the same way: the worker reads its
process's kernel high-water mark (``VmHWM``, see ``sizing/meter.py``) at each heartbeat,
and the scheduler holds it in ``identity()["workers"][address]["metrics"]["memory_peak"]``,
where ``schema.worker_row`` finds it. Where the mark cannot be read, or a reset did not take,
the worker reports the highest RSS its system monitor sampled (every 0.5 s by default)
instead, and says so: ``memory_peak_method`` is ``"sampled"`` rather than ``"hwm"``.

Workers in threads (``processes=False``) share one process, so they share its peak.
``ran_tasks`` says whether the worker started a task since it started or since the reset, so
that an idle worker's peak is never taken for a run's.
Memory restarts are the nanny's ``worker-restart-memory`` events on the scheduler.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from typing import Any

import cloudpickle
from distributed.diagnostics.plugin import WorkerPlugin

from clustercraft.sizing import meter
from clustercraft.sizing.meter import read_status, reset_hwm

PLUGIN_NAME = "clustercraft-worker-peak"
PEAK_METRIC = "memory_peak"
METHOD_METRIC = "memory_peak_method"
RAN_METRIC = "ran_tasks"  # whether a task started here since the start or the last reset
RESET_OP = "clustercraft_reset_peak"  # a worker handler the plugin adds
MEMORY_RESTART_TOPIC = "worker-restart-memory"


class WorkerPeak(WorkerPlugin):
    """Adds ``memory_peak`` (bytes) and ``memory_peak_method`` to the worker's metrics."""

    name = PLUGIN_NAME
    idempotent = True

    def setup(self, worker: Any) -> None:
        self.worker = worker
        try:  # the mark since the process started: exact, nothing to reset
            read_status()["VmHWM"]
            self.method = "hwm"
        except (OSError, KeyError):
            self.method = "sampled"
        self._start_sampling()
        self.ran = False
        worker.metrics[PEAK_METRIC] = self.peak
        worker.metrics[RAN_METRIC] = lambda _worker: self.ran
        worker.metrics[METHOD_METRIC] = lambda _worker: self.method
        worker.handlers[RESET_OP] = self.reset

    def teardown(self, worker: Any) -> None:
        worker.metrics.pop(PEAK_METRIC, None)
        worker.metrics.pop(METHOD_METRIC, None)
        worker.metrics.pop(RAN_METRIC, None)
        worker.handlers.pop(RESET_OP, None)

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if finish == "executing":  # a peak of an idle worker says nothing about a run
            self.ran = True

    def peak(self, _worker: Any = None) -> int:
        if self.method == "hwm":
            with contextlib.suppress(OSError, KeyError):
                return read_status()["VmHWM"]
            self.method = "sampled"
        monitor = self.worker.monitor
        recent = monitor.range_query(self._seen).get("memory", [])
        self._seen = monitor.count
        self._sampled = max([self._sampled, *(int(m) for m in recent if m)])
        return self._sampled

    async def reset(self) -> int:
        """Start a new peak from the current RSS; the scheduler hears of it at once."""
        self.method = "hwm" if reset_hwm() is not None else "sampled"
        self._start_sampling()
        self.ran = False
        with contextlib.suppress(Exception):  # a closing worker: its next beat never comes
            await self.worker.heartbeat()
        return self.peak()

    def _start_sampling(self) -> None:
        monitor = self.worker.monitor
        self._seen = monitor.count
        self._sampled = int(monitor.get_process_memory())


def plugin_registration() -> dict[str, Any]:
    """The arguments of the scheduler's ``register_worker_plugin`` for WorkerPeak, which
    then runs on every worker, present and future (the scheduler keeps it).

    The plugin travels by value (its code and the meter functions it calls), not as an
    import of clustercraft: a plugin a worker cannot unpickle stops it from joining, and
    remote workers need not have clustercraft installed.
    """
    modules = [sys.modules[__name__], meter]
    added = [m for m in modules if m.__name__ not in cloudpickle.list_registry_pickle_by_value()]
    for module in added:
        cloudpickle.register_pickle_by_value(module)
    try:
        plugin = cloudpickle.dumps(WorkerPeak())
    finally:
        for module in added:
            cloudpickle.unregister_pickle_by_value(module)
    return {"plugin": plugin, "name": PLUGIN_NAME, "idempotent": True}


def reset_message() -> dict[str, Any]:
    """The arguments of the scheduler's ``broadcast`` that resets every worker's peak."""
    return {"msg": {"op": RESET_OP}, "on_error": "ignore"}


def peak_method(workers: Mapping[str, Mapping[str, Any]]) -> str | None:
    """``"hwm"`` when every reporting worker's peak is exact, ``"sampled"`` when any is
    not, None when no worker reports one (the plugin could not run there)."""
    methods = {(info.get("metrics") or {}).get(METHOD_METRIC) for info in workers.values()}
    methods.discard(None)
    if "sampled" in methods:
        return "sampled"
    return "hwm" if methods else None
