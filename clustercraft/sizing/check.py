"""Will every partition fit a worker? Each partition's predicted peak against the memory limit.

The prediction comes from a measurement, scaled by each partition's size:

- a ``profile_partitions`` report: its model, fitted on the worker peaks of the profiled
  partitions against their estimated memory;
- a ``%%peakmem`` report: the bytes it measured per row (per nested row in nested data) of
  the input it named, or, when the cell loaded its own data, per byte of the largest
  partition (which the workflow measures);
- nothing measured (only a limit): the estimated memory times ``factor``, as a rough guess.

A partition fits when its predicted worker peak stays under Dask's pause threshold (80 % of
the limit by default): above it the worker stops taking tasks, at 95 % it is restarted.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from dask.utils import format_bytes, parse_bytes

from .inputs import CellInputs, InputSize
from .partitions import COLUMNS, current_client, partition_sizes, size_column
from .recommend import WORKER_BASE_RSS
from .render import Markup, render

__all__ = ["PartitionCheck", "PartitionSizeWarning", "PeakModel", "check_partitions"]

DEFAULT_FACTOR = 2.0  # only when nothing was measured


class PartitionSizeWarning(UserWarning):
    """A partition's predicted peak does not fit one worker."""


def pause_fraction() -> float:
    import dask

    return float(dask.config.get("distributed.worker.memory.pause", 0.8) or 0.8)


@dataclass
class PeakModel:
    """A worker's peak on a partition: ``base + per_unit x partition[column]`` bytes."""

    column: str  # "memory", "rows" or "nested_rows" of a partition_sizes table
    base: float  # bytes at size zero: the worker's own memory (and any fixed cost)
    per_unit: float  # bytes per unit of ``column``
    source: str  # how it was made, for people

    def predict(self, sizes: pd.DataFrame) -> np.ndarray:
        column = self.column if self.column in sizes else size_column(sizes)
        return self.base + self.per_unit * sizes[column].to_numpy(dtype="float64")

    def to_dict(self) -> dict:
        return {
            "column": self.column,
            "base": self.base,
            "per_unit": self.per_unit,
            "source": self.source,
        }


def _field(source: Any, name: str, default: Any = None) -> Any:
    """``source.name`` or ``source[name]``: recommendations may be objects or dicts."""
    if isinstance(source, dict):
        return source.get(name, default)
    return getattr(source, name, default)


def _is_size(value: Any) -> bool:
    return isinstance(value, (int, np.integer, float, str)) and not isinstance(value, bool)


def _peakmem_model(report: Any, sizes: pd.DataFrame) -> PeakModel:
    """Bytes per row measured by ``%%peakmem``, from the inputs it named or the largest partition."""
    base = report.worker_base or WORKER_BASE_RSS
    inputs = CellInputs([InputSize(**item) for item in report.inputs or []])
    # As the recommendation counts it: the inputs as read, and reading them.
    need = max(max(report.increment, 0) + inputs.nbytes, inputs.loading)
    nested = sum(item.nested_rows or 0 for item in inputs.measured)
    rows = sum(item.rows or 0 for item in inputs.measured)
    names = ", ".join(item.name for item in inputs.measured)
    if nested and "nested_rows" in sizes:
        per_unit = need / nested
        return PeakModel(
            "nested_rows",
            base,
            per_unit,
            f"%%peakmem measured {format_bytes(need)} on {nested:,} nested rows of {names} "
            f"({format_bytes(per_unit)} a nested row) plus a worker's {format_bytes(base)}",
        )
    if rows:
        per_unit = need / rows
        return PeakModel(
            "rows",
            base,
            per_unit,
            f"%%peakmem measured {format_bytes(need)} on {rows:,} rows of {names} "
            f"({format_bytes(per_unit)} a row) plus a worker's {format_bytes(base)}",
        )
    column = size_column(sizes)
    largest = float(sizes[column].max()) or 1.0
    return PeakModel(
        column,
        base,
        need / largest,
        f"%%peakmem measured {format_bytes(need)}, taken to be the largest partition's run "
        f"(the cell loaded its own data), scaled by {column}, plus a worker's "
        f"{format_bytes(base)}",
    )


def _model(report: Any, sizes: pd.DataFrame, factor: float | None) -> PeakModel:
    if report is not None and isinstance(getattr(report, "model", None), PeakModel):
        return report.model  # profile_partitions
    if report is not None and hasattr(report, "increment"):
        return _peakmem_model(report, sizes)
    factor = DEFAULT_FACTOR if factor is None else factor
    column = size_column(sizes)
    return PeakModel(
        column,
        WORKER_BASE_RSS,
        factor,
        f"a guess, nothing measured: {column} x {factor:g} plus a worker's usual "
        f"{format_bytes(WORKER_BASE_RSS)} (clustercraft.profile_partitions measures it)",
    )


def _budget_from_client(client) -> tuple[int, int, str]:
    workers = list(client.scheduler_info(n_workers=-1)["workers"].values())
    if not workers:
        raise ValueError("client has no workers yet: wait for them, or pass memory_limit")
    limit = min(int(worker.get("memory_limit") or 0) for worker in workers)
    if limit <= 0:
        raise ValueError(
            "client's workers have no memory limit: pass memory_limit (e.g. '4GiB') instead"
        )
    threads = max(int(worker.get("nthreads") or 1) for worker in workers)
    return limit, threads, f"smallest worker of {len(workers)} on the client"


def _budget(limit: Any, report: Any, client: Any) -> tuple[int, int | None, str]:
    """Worker memory limit in bytes, threads per worker if known, and where they came from."""
    if limit is None and report is not None:
        recommendation = _field(report, "recommendation", report)
        limit = _field(recommendation, "memory_limit")
        if limit is not None:
            threads = _field(recommendation, "threads_per_worker")
            limit = parse_bytes(limit) if isinstance(limit, str) else int(limit)
            return limit, (int(threads) if threads else None), "recommendation"
        if not (hasattr(report, "increment") or hasattr(report, "model")):
            raise TypeError(
                "report must be a %%peakmem or profile_partitions report, a recommendation "
                f"with a memory_limit, bytes or a size like '4GiB'; got {type(report).__name__}"
            )
    if limit is None:
        client = client if client is not None else current_client()
        if client is None:
            raise ValueError(
                "memory_limit is needed: pass bytes or a size like '4GiB', a %%peakmem or "
                "profile_partitions report with a recommendation, or a client (or have a "
                "distributed Client running)"
            )
        return _budget_from_client(client)
    if not _is_size(limit):
        raise TypeError(
            "memory_limit must be bytes, a size like '4GiB', a %%peakmem or profile_partitions "
            f"report or a recommendation with a memory_limit; got {type(limit).__name__}"
        )
    limit = parse_bytes(limit) if isinstance(limit, str) else int(limit)
    if limit <= 0:
        raise ValueError(f"memory_limit must be positive; got {limit!r}")
    return limit, None, "given"


@dataclass
class PartitionCheck:
    """Every partition's predicted worker peak against one worker's memory limit."""

    sizes: pd.DataFrame  # every partition with its predicted_peak, largest first
    memory_limit: int
    threads_per_worker: int
    source: str  # where memory_limit came from
    model: PeakModel
    pause: float  # fraction of the limit at which Dask pauses a worker

    @property
    def method(self) -> str:
        return self.sizes.attrs.get("method", "counted")

    @property
    def largest(self) -> pd.Series:
        return self.sizes.iloc[0]

    @property
    def allowed(self) -> float:
        """The most a worker may reach: Dask's pause threshold."""
        return self.pause * self.memory_limit

    @property
    def needed(self) -> int:
        """The largest predicted worker peak (threads included)."""
        return int(self.largest["predicted_peak"])

    @property
    def fits(self) -> bool:
        return self.needed <= self.allowed

    @property
    def too_large(self) -> pd.DataFrame:
        """The partitions that would not fit, with ``over``: bytes past the pause threshold."""
        over = self.sizes["predicted_peak"] - self.allowed
        table = self.sizes.assign(over=np.ceil(over).astype("int64"))
        return table[table["over"] > 0]

    @property
    def distribution(self) -> pd.DataFrame:
        """Rows, memory and predicted peak at the usual quantiles over all partitions."""
        columns = [c for c in ("rows", "nested_rows", size_column(self.sizes)) if c in self.sizes]
        quantiles = self.sizes[[*columns, "predicted_peak"]].quantile([0.0, 0.5, 0.9, 1.0])
        quantiles.index = ["min", "median", "90%", "max"]
        return quantiles.round().astype("int64")

    def _share(self, nbytes: float) -> str:
        return f"{format_bytes(int(nbytes))} = {nbytes / self.memory_limit:.0%} of the limit"

    @property
    def message(self) -> str:
        limit = f"worker memory limit {format_bytes(self.memory_limit)} ({self.source})"
        threads = (
            f" with {self.threads_per_worker} threads per worker"
            if self.threads_per_worker > 1
            else ""
        )
        pause = f"Dask's {self.pause:.0%} pause threshold"
        if self.fits:
            head = (
                f"Largest partition [{self.largest['label']}]: predicted worker peak "
                f"{self._share(self.needed)}{threads}; every partition fits the {limit} "
                f"under {pause}."
            )
        else:
            too_large = self.too_large
            named = "; ".join(
                f"{row['label']} by {format_bytes(int(row['over']))} (peak "
                f"{self._share(row['predicted_peak'])})"
                for _, row in too_large.head(5).iterrows()
            )
            more = f" and {len(too_large) - 5} more" if len(too_large) > 5 else ""
            head = (
                f"{len(too_large)} of {len(self.sizes)} partitions do NOT fit the {limit}"
                f"{threads} under {pause}: {named}{more}. Give workers at least "
                f"{format_bytes(math.ceil(self.needed / self.pause))}, use fewer threads per "
                "worker, or repartition."
            )
        return f"{head} Predicted from {self.model.source}."

    def __repr__(self) -> str:
        table = self._readable(self.distribution)
        return f"{self.message}\n\n{len(self.sizes)} partitions:\n{table.to_string()}"

    def _readable(self, table: pd.DataFrame) -> pd.DataFrame:
        byte_columns = [c for c in ("bytes", "memory", "predicted_peak", "over") if c in table]
        return table.assign(**{c: table[c].map(format_bytes) for c in byte_columns})

    def _repr_html_(self) -> str:
        return render(
            "partition_check.html.j2",
            verdict="fits" if self.fits else "does not fit",
            message=self.message,
            count=len(self.sizes),
            table=Markup(self._readable(self.distribution).to_html()),  # pandas' own markup
        )


def _is_sizes_table(obj: Any) -> bool:
    return isinstance(obj, pd.DataFrame) and set(COLUMNS) <= set(obj.columns)


def check_partitions(
    obj: Any,
    report: Any = None,
    *,
    memory_limit: Any = None,
    client: Any = None,
    factor: float | None = None,
    threads_per_worker: int | None = None,
    progress: bool = True,
    warn: bool = True,
) -> PartitionCheck:
    """Predict every partition's worker peak and check it fits the worker memory limit.

    ``report`` is a ``profile_partitions`` report (its fitted model predicts), a
    ``%%peakmem`` report (its bytes per row do), or just a limit (bytes, "4GiB" or a
    recommendation). The limit is ``memory_limit``, else the report's recommendation,
    else the smallest worker of ``client`` (or of the running default client). A worker
    running several threads holds several partitions at once. ``factor`` scales the
    estimated memory only when nothing was measured. ``obj`` may also be a table from
    ``partition_sizes``. Warns (``PartitionSizeWarning``) when a partition does not fit,
    naming it and by how much.
    """
    if factor is not None and (
        isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0
    ):
        raise ValueError(f"factor must be a positive number; got {factor!r}")
    if threads_per_worker is not None and (
        isinstance(threads_per_worker, bool) or int(threads_per_worker) < 1
    ):
        raise ValueError(f"threads_per_worker must be >= 1; got {threads_per_worker!r}")
    if _is_size(report) or isinstance(report, bool):  # check_partitions(obj, "4GiB")
        memory_limit, report = report, None
    limit, threads, source = _budget(memory_limit, report, client)
    sizes = obj if _is_sizes_table(obj) else partition_sizes(obj, progress=progress)
    model = _model(report, sizes, factor)
    threads = int(threads_per_worker or threads or 1)
    peak = model.predict(sizes)
    if report is not None and hasattr(report, "measured_peaks"):  # profiled: measured, exactly
        measured = report.measured_peaks()
        peak = np.array(
            [measured.get(label, p) for label, p in zip(sizes["label"], peak, strict=True)]
        )
    # Each thread holds a partition in flight; the worker's own memory is there once.
    sizes = sizes.assign(predicted_peak=np.ceil(model.base + threads * (peak - model.base)))
    sizes = sizes.astype({"predicted_peak": "int64"})
    ordered = sizes.sort_values("predicted_peak", ascending=False, kind="stable")
    ordered = ordered.reset_index(drop=True)
    ordered.attrs.update(sizes.attrs)
    check = PartitionCheck(ordered, limit, threads, source, model, pause_fraction())
    if warn and not check.fits:
        warnings.warn(check.message, PartitionSizeWarning, stacklevel=2)
    return check
