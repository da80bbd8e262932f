"""The "one pixel" workflow: find the largest partitions, load one, check they fit a worker.

Sizes come from metadata when there is some, without reading any data:

- LSDB catalogs: the HATS ``dataset/_metadata`` file (or each pixel's Parquet footer),
  per-pixel row counts and uncompressed sizes, labelled "Order: 5, Pixel: 7457".
- Dask DataFrames read straight from Parquet: the footers of the files and row groups
  behind each partition, as planned by dask's ``read_parquet`` expression.

Anything else is counted, one task per partition, under a progress bar (dask's, or the
distributed one when a client is running).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from dask.utils import format_bytes, parse_bytes

__all__ = [
    "PartitionCheck",
    "PartitionSizeWarning",
    "check_partitions",
    "largest_partitions",
    "load_partition",
    "partition_sizes",
]

SizeKey = Literal["rows", "bytes"]
SIZE_KEYS: tuple[str, ...] = ("rows", "bytes")
COLUMNS = ["label", "partition", "rows", "bytes"]

LSDB_INSTALL_HINT = "pip install 'clustercraft[lsdb]'  (or: pip install lsdb)"
# HATS pixel paths: <catalog>/dataset/Norder=<o>/Dir=<d>/Npix=<p>.parquet (or Npix=<p>/ dirs)
HATS_PIXEL_PATH = re.compile(r"Norder=(\d+)\D.*Npix=(\d+)")
PIXEL_LABEL = re.compile(r"^\s*Order:\s*(\d+),\s*Pixel:\s*(\d+)\s*$")
HATS_MARKERS = ("hats.properties", "properties", "collection.properties", "partition_info.csv")
FOOTER_READERS = 16  # footers are tiny; threads hide the latency of remote filesystems

METHOD_HATS = "hats-metadata"
METHOD_PARQUET = "parquet-metadata"
METHOD_COUNTED = "counted"
BYTES_MEANING = {
    METHOD_HATS: "uncompressed Parquet bytes of the loaded columns (from metadata)",
    METHOD_PARQUET: "uncompressed Parquet bytes of the loaded columns (from footers)",
    METHOD_COUNTED: "in-memory bytes (pandas memory_usage(deep=True))",
}


class PartitionSizeWarning(UserWarning):
    """The largest partition, times the safety factor, does not fit one worker."""


# --------------------------------------------------------------------------- inputs


def _is_lsdb_catalog(obj: Any) -> bool:
    # Duck-typed so that lsdb stays optional (and is never imported just to check).
    return hasattr(obj, "hc_structure") and hasattr(obj, "get_healpix_pixels")


def _is_dask_frame(obj: Any) -> bool:
    import dask.dataframe as dd

    return isinstance(obj, (dd.DataFrame, dd.Series))


def _is_hats_dir(path: str) -> bool:
    return os.path.isdir(path) and any(
        os.path.exists(os.path.join(path, marker)) for marker in HATS_MARKERS
    )


def _open_hats(path: str):
    try:
        import lsdb
    except ImportError as error:
        raise ImportError(
            f"{path!r} is a HATS catalog; opening it needs lsdb: {LSDB_INSTALL_HINT}"
        ) from error
    return lsdb.open_catalog(path)


def _resolve(obj: Any):
    """The Dask DataFrame/Series or LSDB catalog that ``obj`` is or points to."""
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if _is_hats_dir(path):
            return _open_hats(path)
        import dask.dataframe as dd

        return dd.read_parquet(path)
    if _is_lsdb_catalog(obj) or _is_dask_frame(obj):
        return obj
    raise TypeError(
        "obj must be a Dask DataFrame or Series, an LSDB catalog, or a path to Parquet or "
        f"HATS data; got {type(obj).__module__}.{type(obj).__qualname__}"
    )


def _check_n(n: int | None) -> None:
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive integer (or None for all partitions); got {n!r}")


def _check_by(by: str) -> None:
    if by not in SIZE_KEYS:
        raise ValueError(f"by must be one of {SIZE_KEYS}; got {by!r}")


# --------------------------------------------------------------------------- labels


def _pixel_label(order: int, pixel: int) -> str:
    return f"Order: {order}, Pixel: {pixel}"


def _pixel_from_path(path: str) -> tuple[int, int] | None:
    match = HATS_PIXEL_PATH.search(path.replace("\\", "/"))
    return (int(match[1]), int(match[2])) if match else None


def _labels_from_paths(paths: Sequence[Sequence[str]]) -> list:
    """Pixel labels when every partition is exactly one HATS pixel; partition indices otherwise."""
    pixels = []
    for partition_paths in paths:
        found = {_pixel_from_path(path) for path in partition_paths}
        if len(found) != 1 or None in found:
            return list(range(len(paths)))
        pixels.append(found.pop())
    if len(set(pixels)) != len(pixels):  # a pixel split over several partitions
        return list(range(len(paths)))
    return [_pixel_label(*pixel) for pixel in pixels]


def _catalog_pixels(catalog) -> list:
    pixels = list(catalog.get_healpix_pixels())
    if not pixels:
        raise ValueError("obj is an empty catalog: it has no partitions (HEALPix pixels)")
    return pixels


# --------------------------------------------------------------------------- Parquet plans


Piece = tuple[str, "list[int] | None"]  # one file, and its row groups (None: all of them)


@dataclass
class _ParquetPlan:
    """Which files and row groups each partition of a ``read_parquet`` collection reads."""

    filesystem: Any
    partitions: list[list[Piece]]
    columns: list[str]  # top-level columns that will be loaded, index included


def _parquet_plan(ddf) -> _ParquetPlan | None:
    """The read plan of ``ddf`` if it reads Parquet as is (no row filters), else None."""
    from dask.dataframe.dask_expr._expr import Projection
    from dask.dataframe.dask_expr.io.parquet import (
        ReadParquet,
        ReadParquetFSSpec,
        ReadParquetPyarrowFS,
    )

    # simplify(), not optimize(): lowering may fuse partitions and renumber them.
    expr = ddf.expr.simplify()
    while isinstance(expr, Projection):  # column selections keep every row
        expr = expr.frame
    if not isinstance(expr, ReadParquet) or expr.filters:
        return None
    kept = expr._partitions if expr._filtered else range(expr.npartitions)

    if isinstance(expr, ReadParquetFSSpec):
        if expr._plan["empty"]:
            return None
        parts = expr._plan["parts"]
        filesystem = expr._dataset_info["fs"]
        partitions = []
        for index in kept:
            part = parts[index]
            pieces = part if isinstance(part, list) else [part]
            partitions.append([(p["piece"][0], p["piece"][1]) for p in pieces])
    elif isinstance(expr, ReadParquetPyarrowFS):
        fragments = expr.fragments
        filesystem = expr.fs
        partitions = [[(fragments[index].path, None)] for index in kept]
    else:
        return None

    meta = ddf._meta
    loaded = [meta.name] if isinstance(meta, pd.Series) else list(meta.columns)
    loaded += [name for name in meta.index.names if name is not None]
    return _ParquetPlan(filesystem, partitions, [str(name) for name in loaded])


def _read_footers(paths: Iterable[str], filesystem: Any) -> dict[str, Any]:
    import pyarrow.parquet as pq

    unique = list(dict.fromkeys(paths))

    def footer(path: str):
        return pq.read_metadata(path, filesystem=filesystem)

    with ThreadPoolExecutor(max_workers=min(FOOTER_READERS, max(1, len(unique)))) as pool:
        return dict(zip(unique, pool.map(footer, unique), strict=True))


def _row_group_size(row_group, columns: set[str]) -> tuple[int, int]:
    """Rows and uncompressed bytes of one row group, counting only ``columns``."""
    nbytes = 0
    for i in range(row_group.num_columns):
        chunk = row_group.column(i)
        if chunk.path_in_schema.split(".")[0] in columns:
            nbytes += chunk.total_uncompressed_size
    return row_group.num_rows, nbytes


def _parquet_sizes(plan: _ParquetPlan) -> tuple[list[int], list[int]]:
    footers = _read_footers(
        (path for pieces in plan.partitions for path, _ in pieces), plan.filesystem
    )
    columns = set(plan.columns)
    rows, nbytes = [], []
    for pieces in plan.partitions:
        partition_rows = partition_bytes = 0
        for path, row_groups in pieces:
            footer = footers[path]
            for index in range(footer.num_row_groups) if row_groups is None else row_groups:
                group_rows, group_bytes = _row_group_size(footer.row_group(index), columns)
                partition_rows += group_rows
                partition_bytes += group_bytes
        rows.append(partition_rows)
        nbytes.append(partition_bytes)
    return rows, nbytes


# --------------------------------------------------------------------------- HATS metadata


def _sum_by_pixel(footers: Iterable[Any], columns: set[str]) -> dict[tuple[int, int], list[int]]:
    """Rows and bytes per (order, pixel), from footers whose row groups name their files."""
    totals: dict[tuple[int, int], list[int]] = {}
    for footer, default_path in footers:
        for index in range(footer.num_row_groups):
            row_group = footer.row_group(index)
            path = row_group.column(0).file_path or default_path
            pixel = _pixel_from_path(path)
            if pixel is None:
                continue
            group_rows, group_bytes = _row_group_size(row_group, columns)
            total = totals.setdefault(pixel, [0, 0])
            total[0] += group_rows
            total[1] += group_bytes
    return totals


def _read_footer(path) -> Any:
    import pyarrow.parquet as pq

    with path.open("rb") as file:
        return pq.read_metadata(file)


def _hats_sizes(catalog, pixels: list) -> tuple[list[int], list[int]] | None:
    """Per-pixel rows and bytes from the catalog's HATS metadata, or None if unusable."""
    structure = catalog.hc_structure
    # A query or cone search changes the rows inside pixels: the files no longer say.
    if getattr(structure, "catalog_path", None) is None or not structure.unmodified:
        return None
    dataset = structure.catalog_base_dir / "dataset"
    columns = {str(name) for name in catalog.columns}
    columns.update(str(name) for name in catalog.meta.index.names if name is not None)

    summary = dataset / "_metadata"
    if summary.exists():  # one file holds every row group's footer
        footers = [(_read_footer(summary), "")]
    else:
        files = sorted(dataset.rglob("*.parquet"), key=str)
        with ThreadPoolExecutor(max_workers=FOOTER_READERS) as pool:
            footers = list(zip(pool.map(_read_footer, files), map(str, files), strict=True))
    totals = _sum_by_pixel(footers, columns)
    found = [totals.get((pixel.order, pixel.pixel)) for pixel in pixels]
    if any(total is None for total in found):
        return None
    return [total[0] for total in found], [total[1] for total in found]


def _catalog_frame(catalog):
    to_dask = getattr(catalog, "to_dask_dataframe", None)
    return to_dask() if to_dask is not None else catalog._ddf


# --------------------------------------------------------------------------- counting


PROGRESS_AFTER = 0.5  # seconds before a local progress bar appears


def _one_partition_size(part) -> tuple[int, int]:
    return len(part), int(np.sum(part.memory_usage(deep=True)))


def _current_client():
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _compute_with_progress(tasks: list, progress: bool) -> list:
    import dask

    client = _current_client()
    if client is not None:
        futures = client.compute(tasks)
        if progress:
            from distributed import progress as show_progress

            show_progress(futures)
        return client.gather(futures)
    from dask.diagnostics import ProgressBar

    with ProgressBar(minimum=PROGRESS_AFTER) if progress else nullcontext():
        return list(dask.compute(*tasks))


def _counted_sizes(frame, progress: bool) -> tuple[list[int], list[int]]:
    import dask

    # Unoptimized on purpose: the optimizer may fuse partitions and renumber them.
    parts = frame.to_delayed(optimize_graph=False)
    sizes = _compute_with_progress([dask.delayed(_one_partition_size)(p) for p in parts], progress)
    return [rows for rows, _ in sizes], [nbytes for _, nbytes in sizes]


# --------------------------------------------------------------------------- public API


def partition_sizes(obj: Any, *, progress: bool = True) -> pd.DataFrame:
    """Every partition of ``obj`` in partition order: label, partition, rows, bytes.

    ``table.attrs["method"]`` says where the figures come from ("hats-metadata",
    "parquet-metadata" or "counted") and ``table.attrs["bytes_meaning"]`` what bytes are.
    """
    target = _resolve(obj)
    if _is_lsdb_catalog(target):
        pixels = _catalog_pixels(target)
        labels: list = [_pixel_label(pixel.order, pixel.pixel) for pixel in pixels]
        sizes, method = _hats_sizes(target, pixels), METHOD_HATS
        frame = _catalog_frame(target) if sizes is None else None
    else:
        plan = _parquet_plan(target)
        if plan is None:
            labels, sizes = list(range(target.npartitions)), None
        else:
            labels = _labels_from_paths([[path for path, _ in p] for p in plan.partitions])
            sizes = _parquet_sizes(plan)
        method, frame = METHOD_PARQUET, target
    if sizes is None:
        sizes, method = _counted_sizes(frame, progress), METHOD_COUNTED
    rows, nbytes = sizes
    table = pd.DataFrame(
        {"label": labels, "partition": range(len(labels)), "rows": rows, "bytes": nbytes}
    )
    table.attrs.update(method=method, bytes_meaning=BYTES_MEANING[method])
    return table


def _sorted(table: pd.DataFrame, by: str) -> pd.DataFrame:
    other = "bytes" if by == "rows" else "rows"
    ordered = table.sort_values([by, other], ascending=False, kind="stable")
    ordered = ordered.reset_index(drop=True)
    ordered.attrs.update(table.attrs)
    return ordered


def largest_partitions(
    obj: Any, n: int | None = 5, by: SizeKey = "rows", *, progress: bool = True
) -> pd.DataFrame:
    """The ``n`` largest partitions of ``obj`` by ``"rows"`` or ``"bytes"``, largest first.

    ``obj`` is a Dask DataFrame or Series, an LSDB catalog, or a path to Parquet or HATS
    data. Sizes come from metadata when possible (no data is read), otherwise from
    counting every partition with a progress bar. Returns a pandas DataFrame with columns
    label ("Order: 5, Pixel: 7457" for HEALPix pixels, the partition index otherwise),
    partition (index), rows and bytes; see ``partition_sizes`` for ``attrs``.
    """
    _check_n(n)
    _check_by(by)
    ordered = _sorted(partition_sizes(obj, progress=progress), by)
    head = ordered if n is None else ordered.head(int(n))
    head.attrs.update(ordered.attrs)
    return head


def _label_key(label: Any) -> Any:
    """A label as it appears in the table: a pixel label string, or a partition index."""
    if isinstance(label, pd.Series) and "partition" in label:  # a row of largest_partitions
        return int(label["partition"])
    if hasattr(label, "order") and hasattr(label, "pixel"):  # hats HealpixPixel
        return _pixel_label(int(label.order), int(label.pixel))
    if isinstance(label, tuple) and len(label) == 2:
        return _pixel_label(int(label[0]), int(label[1]))
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        return int(label)
    if isinstance(label, str):
        if label.strip().isdigit():
            return int(label)
        match = PIXEL_LABEL.match(label)
        if match:
            return _pixel_label(int(match[1]), int(match[2]))
    raise ValueError(
        f"label must be a partition index, a pixel label like 'Order: 5, Pixel: 7457', an "
        f"(order, pixel) tuple or a HealpixPixel; got {label!r}"
    )


def _find_partition(labels: list, key: Any) -> int:
    if isinstance(key, int):
        if not 0 <= key < len(labels):
            raise ValueError(f"label {key!r} is out of range: obj has {len(labels)} partitions")
        return key
    if key in labels:
        return labels.index(key)
    examples = ", ".join(repr(label) for label in labels[:3])
    raise ValueError(f"label {key!r} is not a partition of obj; labels look like {examples}")


def load_partition(obj: Any, label: Any):
    """Compute and return one partition of ``obj``, named by a label from ``largest_partitions``."""
    target = _resolve(obj)
    key = _label_key(label)
    if _is_lsdb_catalog(target):
        pixels = _catalog_pixels(target)
        index = _find_partition([_pixel_label(p.order, p.pixel) for p in pixels], key)
        return target.get_partition(pixels[index].order, pixels[index].pixel).compute()
    if isinstance(key, str):  # a pixel label: map it through the files' names
        plan = _parquet_plan(target)
        paths = [] if plan is None else [[path for path, _ in p] for p in plan.partitions]
        labels = _labels_from_paths(paths) if paths else list(range(target.npartitions))
        index = _find_partition(labels, key)
    else:
        index = _find_partition(list(range(target.npartitions)), key)
    return target.partitions[index].compute()


# --------------------------------------------------------------------------- partition check


def _field(source: Any, name: str, default: Any = None) -> Any:
    """``source.name`` or ``source[name]``: recommendations may be objects or dicts."""
    if isinstance(source, dict):
        return source.get(name, default)
    return getattr(source, name, default)


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


def _budget(memory_limit: Any, client: Any) -> tuple[int, int | None, str]:
    """Worker memory limit in bytes, threads per worker if known, and where they came from."""
    if memory_limit is None:
        client = client if client is not None else _current_client()
        if client is None:
            raise ValueError(
                "memory_limit is needed: pass bytes or a size like '4GiB', a %%peakmem report "
                "or its recommendation, or a client (or have a distributed Client running)"
            )
        return _budget_from_client(client)
    if isinstance(memory_limit, bool):
        raise TypeError(f"memory_limit must be a size, got {memory_limit!r}")
    if isinstance(memory_limit, (int, np.integer, float)):
        limit, threads, source = int(memory_limit), None, "given"
    elif isinstance(memory_limit, str):
        limit, threads, source = parse_bytes(memory_limit), None, "given"
    else:
        recommendation = _field(memory_limit, "recommendation", memory_limit)
        limit = _field(recommendation, "memory_limit")
        if limit is None:
            raise TypeError(
                "memory_limit must be bytes, a size like '4GiB', a %%peakmem report or a "
                f"recommendation with a memory_limit; got {type(memory_limit).__name__}"
            )
        limit = parse_bytes(limit) if isinstance(limit, str) else int(limit)
        threads, source = _field(recommendation, "threads_per_worker"), "recommendation"
    if limit <= 0:
        raise ValueError(f"memory_limit must be positive; got {memory_limit!r}")
    return limit, (int(threads) if threads else None), source


@dataclass
class PartitionCheck:
    """Partition sizes against one worker's memory limit."""

    sizes: pd.DataFrame  # every partition, largest bytes first
    memory_limit: int
    factor: float
    threads_per_worker: int
    source: str  # where memory_limit came from

    @property
    def method(self) -> str:
        return self.sizes.attrs.get("method", METHOD_COUNTED)

    @property
    def largest(self) -> pd.Series:
        return self.sizes.iloc[0]

    @property
    def per_partition_budget(self) -> float:
        """Bytes one partition may have: the worker's memory shared by its threads, with margin."""
        return self.memory_limit / (self.factor * self.threads_per_worker)

    @property
    def needed(self) -> int:
        """Worker memory the largest partition calls for: bytes x factor x threads."""
        return math.ceil(int(self.largest["bytes"]) * self.factor * self.threads_per_worker)

    @property
    def fits(self) -> bool:
        return self.needed <= self.memory_limit

    @property
    def too_large(self) -> pd.DataFrame:
        """The partitions that do not fit."""
        return self.sizes[self.sizes["bytes"] > self.per_partition_budget]

    @property
    def distribution(self) -> pd.DataFrame:
        """Rows and bytes at the usual quantiles over all partitions."""
        quantiles = self.sizes[["rows", "bytes"]].quantile([0.0, 0.5, 0.9, 1.0])
        quantiles.index = ["min", "median", "90%", "max"]
        return quantiles.round().astype("int64")

    @property
    def message(self) -> str:
        largest = self.largest
        head = (
            f"Largest partition [{largest['label']}]: {int(largest['rows']):,} rows, "
            f"{format_bytes(int(largest['bytes']))} x {self.factor:g} (safety factor)"
            + (f" x {self.threads_per_worker} threads" if self.threads_per_worker > 1 else "")
            + f" = {format_bytes(self.needed)} "
        )
        limit = f"worker memory limit {format_bytes(self.memory_limit)} ({self.source})"
        if self.fits:
            text = head + f"fits the {limit}."
        else:
            text = (
                head + f"does NOT fit the {limit}; {len(self.too_large)} of "
                f"{len(self.sizes)} partitions are too large. Give workers at least "
                f"{format_bytes(self.needed)}, use fewer threads per worker, or repartition."
            )
        if self.method != METHOD_COUNTED:
            text += " Sizes are uncompressed Parquet bytes; in memory they can be larger."
        return text

    def __repr__(self) -> str:
        table = self.distribution.assign(bytes=self.distribution["bytes"].map(format_bytes))
        return f"{self.message}\n\n{len(self.sizes)} partitions:\n{table.to_string()}"

    def _repr_html_(self) -> str:
        import html

        table = self.distribution.assign(bytes=self.distribution["bytes"].map(format_bytes))
        verdict = "fits" if self.fits else "does not fit"
        return (
            f"<div class='jp-ClusterCraft-partitionCheck' data-verdict='{verdict}'>"
            f"<p>{html.escape(self.message)}</p>"
            f"<p>{len(self.sizes)} partitions:</p>{table.to_html()}</div>"
        )


def _is_sizes_table(obj: Any) -> bool:
    return isinstance(obj, pd.DataFrame) and set(COLUMNS) <= set(obj.columns)


def check_partitions(
    obj: Any,
    memory_limit: Any = None,
    *,
    client: Any = None,
    factor: float = 2.0,
    threads_per_worker: int | None = None,
    progress: bool = True,
    warn: bool = True,
) -> PartitionCheck:
    """Check that the largest partition of ``obj``, times ``factor``, fits one worker.

    ``memory_limit`` is bytes, a size like "4GiB", a ``%%peakmem`` report or its
    recommendation; without it the smallest worker of ``client`` (or of the running
    default client) is used. A worker running several threads holds several partitions
    at once, so the need is multiplied by threads per worker (given, from the
    recommendation or the client, else 1). ``obj`` may also be a table from
    ``partition_sizes``/``largest_partitions(n=None)``. Warns (``PartitionSizeWarning``)
    when it does not fit.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
        raise ValueError(f"factor must be a positive number; got {factor!r}")
    if threads_per_worker is not None and (
        isinstance(threads_per_worker, bool) or int(threads_per_worker) < 1
    ):
        raise ValueError(f"threads_per_worker must be >= 1; got {threads_per_worker!r}")
    limit, threads, source = _budget(memory_limit, client)
    sizes = obj if _is_sizes_table(obj) else partition_sizes(obj, progress=progress)
    check = PartitionCheck(
        sizes=_sorted(sizes, "bytes"),
        memory_limit=limit,
        factor=float(factor),
        threads_per_worker=int(threads_per_worker or threads or 1),
        source=source,
    )
    if warn and not check.fits:
        warnings.warn(check.message, PartitionSizeWarning, stacklevel=2)
    return check
