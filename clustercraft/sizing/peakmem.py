"""From a measured run to a recommended cluster, and the Python API of ``%%peakmem``.

A PeakMeter only measures. ``size_peak`` adds what a worker needs for the same work (the
run's increment, the data it used that was loaded before it, a worker's own memory) and the
cluster that implies, on the chosen cluster profile. ``%%peakmem``, ``peak_memory()`` and
``measure()`` each measure with a PeakMeter, then call it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dask.utils import format_bytes

from .inputs import CellInputs
from .launch import place
from .meter import PeakMeter
from .recommend import WORKER_BASE_NOTE, WORKER_BASE_RSS, SizingOptions, recommend
from .report import PeakReport, signed_bytes

__all__ = ["measure", "peak_memory", "size_peak"]


def size_peak(
    report: PeakReport, inputs: CellInputs | None = None, sizing: SizingOptions | None = None
) -> PeakReport:
    """Add to ``report`` the data the run used that was loaded before it (``inputs``), a worker's
    own memory (measured once per kernel in a probe worker unless ``sizing`` gives it) and the
    recommendation, None when the need cannot be told; their warnings join the report's."""
    inputs = inputs or CellInputs()
    sizing = sizing or SizingOptions()
    base, base_note = _worker_base(inputs.modules, sizing.worker_base)
    report.inputs = [item.to_dict() for item in inputs.measured]
    report.worker_base = base
    if _unmeasurable(report, inputs, base):
        report.warnings.append(
            f"No recommendation: the kernel held {format_bytes(report.baseline)} before the "
            f"cell, more than the cell added ({signed_bytes(report.increment)}), and the cell "
            f"uses {', '.join(inputs.opaque)}, whose memory clustercraft cannot measure. "
            "If that holds data loaded earlier, a worker needs it too: load the data "
            "inside the measured cell, or size the cluster with "
            "clustercraft.profile_partitions(collection, fn), which runs fn on the largest "
            "partitions in a real Dask worker, loading included."
        )
        return report
    held = (
        "held as load_partition read them (measured), as a worker holds them"
        if not inputs.unread
        else "their deep memory, which a worker holds too"
    )
    recommendation = recommend(
        report.increment,
        baseline=report.baseline,
        children_peak=report.children_peak,
        reserved=report.baseline + report.retained,  # the kernel, which stays up beside it
        worker_base=base,
        worker_base_note=base_note,
        inputs=inputs.nbytes,
        inputs_note=f"for inputs loaded before the cell ({inputs.describe()}), {held}",
        loading=inputs.loading,
        **sizing.shape(),
    )
    place(recommendation, sizing.on_profile)
    report.recommendation = recommendation
    report.warnings += recommendation.warnings
    if inputs.unread:
        report.warnings.append(
            f"How much reading {', '.join(inputs.unread)} costs was not measured (often 2-3"
            " times its size in memory, while Parquet decodes): the need counts its size "
            "only. Load it with clustercraft.load_partition (which measures reading it) or "
            "inside the measured cell, or size with clustercraft.profile_partitions."
        )
    return report


def _unmeasurable(report: PeakReport, inputs: CellInputs, base: int) -> bool:
    """The kernel held more before than the run added, and the run used data it cannot size."""
    dominated = report.baseline > max(report.increment, 0) and report.baseline > 2 * base
    return not inputs.measured and bool(inputs.opaque) and dominated


def _worker_base(modules: set[str], given: int | None) -> tuple[int, str]:
    if given is not None:
        return given, "a Dask worker process's own RSS (as given)"
    from .probe import worker_base, worker_modules

    try:
        base = worker_base(modules)
    except Exception as error:  # no worker could start here: say so, assume the usual
        return WORKER_BASE_RSS, f"{WORKER_BASE_NOTE}; a probe worker failed: {error!r}"
    return base, (
        "a Dask worker process's own RSS, measured in a probe worker with "
        f"{', '.join(worker_modules(modules))} imported"
    )


class SizedPeakMeter(PeakMeter):
    """A PeakMeter whose report, once it stops, is sized with ``sizing`` (``peak_memory()``)."""

    def __init__(self, sizing: SizingOptions, **options: Any) -> None:
        super().__init__(**options)
        self.sizing = sizing

    def stop(self, error: BaseException | None = None) -> PeakReport:
        return size_peak(super().stop(error), None, self.sizing)


def peak_memory(
    *,
    factor: float | None = None,
    n_workers: int | None = None,
    memory_available: int | str | None = None,
    cores: int | None = None,
    worker_base: int | str | None = None,
    profile: str | None = None,
    **options: Any,
) -> PeakMeter:
    """``with clustercraft.peak_memory() as m: ...``; afterwards ``m.report`` is a PeakReport.

    ``options`` are those of :class:`PeakMeter` (method, gc_collect, progress); ``factor``,
    ``n_workers``, ``memory_available`` (bytes or "100GB", per node), ``cores`` (per node),
    ``worker_base`` (a worker's own memory; None: measured in a probe worker) and ``profile``
    (one of the server's cluster profiles) shape the recommendation, as for ``%%peakmem``;
    bad ones raise ValueError before anything runs. If the block raises, the report is still
    made and the exception propagates.
    """
    sizing = SizingOptions(
        factor=factor,
        n_workers=n_workers,
        memory_available=memory_available,
        cores=cores,
        worker_base=worker_base,
        profile=profile,
    )
    return SizedPeakMeter(sizing, **options)


def measure(fn: Callable, /, *args: Any, **kwargs: Any) -> PeakReport:
    """Call ``fn(*args, **kwargs)`` under a :class:`PeakMeter`; its return value is ``.result``.

    Data in the arguments (and in the globals ``fn`` reads) was loaded before the call: its
    deep memory is added to the recommendation's need, since a worker holds it too.
    """
    from .inputs import call_inputs

    inputs = call_inputs(fn, args, kwargs)
    meter = PeakMeter()
    try:
        with meter:
            result = fn(*args, **kwargs)
    except BaseException as error:
        if meter.report is not None and hasattr(error, "add_note"):
            error.add_note(
                f"clustercraft.measure: peak {format_bytes(meter.report.peak)}, increment "
                f"{signed_bytes(meter.report.increment)} until the error"
            )
        raise
    report = size_peak(meter.report, inputs)
    report.result = result
    return report
