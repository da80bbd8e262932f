"""The "one pixel" workflow: find the largest partitions and load one.

Sizes come from metadata when there is some, without reading any data (see ``metadata``):

- LSDB catalogs: the HATS ``dataset/_metadata`` file (or each pixel's Parquet footer),
  labelled "Order: 5, Pixel: 7457".
- Dask DataFrames read straight from Parquet: the footers of the files and row groups
  behind each partition, as planned by dask's ``read_parquet`` expression.

Anything else is counted, one task per partition, under a progress bar (dask's, or the
distributed one when a client is running).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any, Literal

import numpy as np
import pandas as pd

from .metadata import FIGURES, hats_sizes, parquet_plan, parquet_sizes, pixel_from_path

__all__ = [
    "PartitionTable",
    "largest_partitions",
    "load_partition",
    "partition_sizes",
]

SizeKey = Literal["memory", "rows", "nested_rows", "bytes"]
SIZE_KEYS: tuple[str, ...] = ("memory", "rows", "nested_rows", "bytes")
COLUMNS = ["label", "partition", "rows", "bytes"]  # every table has these

LSDB_INSTALL_HINT = "pip install 'clustercraft[lsdb]'  (or: pip install lsdb)"
PIXEL_LABEL = re.compile(r"^\s*Order:\s*(\d+),\s*Pixel:\s*(\d+)\s*$")
HATS_MARKERS = ("hats.properties", "properties", "collection.properties", "partition_info.csv")

METHOD_HATS = "hats-metadata"
METHOD_PARQUET = "parquet-metadata"
METHOD_COUNTED = "counted"
BYTES_MEANING = {
    METHOD_HATS: "uncompressed Parquet bytes of the loaded columns (from metadata)",
    METHOD_PARQUET: "uncompressed Parquet bytes of the loaded columns (from footers)",
    METHOD_COUNTED: "in-memory bytes (pandas memory_usage(deep=True))",
}
MEMORY_MEANING = {
    METHOD_HATS: "estimated bytes in memory once loaded (Arrow widths x value counts)",
    METHOD_PARQUET: "estimated bytes in memory once loaded (Arrow widths x value counts)",
    METHOD_COUNTED: "bytes in memory, measured (pandas memory_usage(deep=True))",
}


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


def resolve(obj: Any):
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


def check_n(n: int | None) -> None:
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


def _labels_from_paths(paths: Sequence[Sequence[str]]) -> list:
    """Pixel labels when every partition is exactly one HATS pixel; partition indices otherwise."""
    pixels = []
    for partition_paths in paths:
        found = {pixel_from_path(path) for path in partition_paths}
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


def _catalog_frame(catalog):
    to_dask = getattr(catalog, "to_dask_dataframe", None)
    return to_dask() if to_dask is not None else catalog._ddf


def _nested_columns(frame_or_meta: Any) -> list[str]:
    """The nested-pandas nested columns of a (Dask) NestedFrame; [] for anything else."""
    return [str(name) for name in getattr(frame_or_meta, "nested_columns", None) or []]


# --------------------------------------------------------------------------- counting


PROGRESS_AFTER = 0.5  # seconds before a local progress bar appears


def nested_rows(part: Any) -> int:
    """Rows of the nested columns of a nested-pandas NestedFrame (0 for anything else)."""
    return int(sum(part[name].nest.flat_length for name in _nested_columns(part)))


def _one_partition_size(part) -> tuple[int, int, int]:
    return len(part), int(np.sum(part.memory_usage(deep=True))), nested_rows(part)


def current_client():
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _compute_with_progress(tasks: list, progress: bool) -> list:
    import dask

    client = current_client()
    if client is not None:
        futures = client.compute(tasks)
        if progress:
            from distributed import progress as show_progress

            show_progress(futures)
        return client.gather(futures)
    from dask.diagnostics import ProgressBar

    with ProgressBar(minimum=PROGRESS_AFTER) if progress else nullcontext():
        return list(dask.compute(*tasks))


def _counted_sizes(frame, progress: bool) -> np.ndarray:
    import dask

    # Unoptimized on purpose: the optimizer may fuse partitions and renumber them.
    parts = frame.to_delayed(optimize_graph=False)
    sizes = _compute_with_progress([dask.delayed(_one_partition_size)(p) for p in parts], progress)
    # In memory, measured: the bytes are the memory.
    return np.array([(rows, nbytes, nested, nbytes) for rows, nbytes, nested in sizes], "float64")


# --------------------------------------------------------------------------- the table


class PartitionTable(pd.DataFrame):
    """Partition sizes (a pandas DataFrame) whose views end with what each count means."""

    @property
    def _constructor(self):
        return PartitionTable

    @property
    def legend(self) -> str:
        meaning = self.attrs.get("meaning", {})
        parts = [f"{name}: {meaning[name]}" for name in self.columns if name in meaning]
        if self.attrs.get("ranked_by"):
            parts.append(f"largest first by {self.attrs['ranked_by']}")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"{super().__repr__()}\n{self.legend}"

    def _repr_html_(self) -> str | None:
        from .render import Markup, render

        table = super()._repr_html_()  # pandas' own markup
        if table is None:
            return None
        return render("partition_table.html.j2", table=Markup(table), legend=self.legend)


def _meanings(method: str, nested: list[str]) -> dict[str, str]:
    meaning = {
        "rows": "objects (top-level rows)" if nested else "rows",
        "bytes": BYTES_MEANING[method],
        "memory": MEMORY_MEANING[method],
    }
    if nested:
        meaning["nested_rows"] = f"rows of the nested column(s) {', '.join(nested)}"
    return meaning


def _lsdb_sizes(catalog, progress: bool) -> tuple[list, np.ndarray, list[str], str]:
    pixels = _catalog_pixels(catalog)
    labels: list = [_pixel_label(pixel.order, pixel.pixel) for pixel in pixels]
    found = hats_sizes(catalog, pixels)
    if found is not None:
        return labels, found[0], found[1], METHOD_HATS
    frame = _catalog_frame(catalog)
    nested = _nested_columns(frame._meta) or list(getattr(catalog, "nested_columns", []) or [])
    return labels, _counted_sizes(frame, progress), nested, METHOD_COUNTED


def _frame_sizes(frame, progress: bool) -> tuple[list, np.ndarray, list[str], str]:
    plan = parquet_plan(frame)
    if plan is None:
        nested = _nested_columns(frame._meta)
        sizes = _counted_sizes(frame, progress)
        return list(range(frame.npartitions)), sizes, nested, METHOD_COUNTED
    labels = _labels_from_paths([[path for path, _ in p] for p in plan.partitions])
    sizes, nested = parquet_sizes(plan)
    return labels, sizes, nested, METHOD_PARQUET


def partition_sizes(obj: Any, *, progress: bool = True) -> PartitionTable:
    """Every partition of ``obj`` in partition order: label, partition, rows, [nested_rows,]
    bytes, memory.

    ``nested_rows`` is there when a loaded column is nested (lists, nested-pandas columns).
    ``table.attrs["method"]`` says where the figures come from ("hats-metadata",
    "parquet-metadata" or "counted"), ``attrs["meaning"]`` what each column counts (the
    table's views end with it) and ``attrs["bytes_meaning"]`` what bytes are.
    """
    target = resolve(obj)
    if _is_lsdb_catalog(target):
        labels, sizes, nested, method = _lsdb_sizes(target, progress)
    else:
        labels, sizes, nested, method = _frame_sizes(target, progress)
    figures = dict(zip(FIGURES, np.rint(sizes).astype("int64").T, strict=True))
    columns = ["rows"] + (["nested_rows"] if nested else []) + ["bytes", "memory"]
    table = PartitionTable(
        {"label": labels, "partition": range(len(labels))}
        | {name: figures[name] for name in columns}
    )
    meaning = _meanings(method, nested)
    table.attrs.update(
        method=method, meaning=meaning, bytes_meaning=meaning["bytes"], nested_columns=nested
    )
    return table


def size_column(table: pd.DataFrame) -> str:
    """What partitions are compared by: estimated memory, else bytes."""
    return "memory" if "memory" in table.columns else "bytes"


def sorted_sizes(table: pd.DataFrame, by: str) -> pd.DataFrame:
    others = [name for name in ("memory", "nested_rows", "rows", "bytes") if name in table]
    ordered = table.sort_values(
        [by] + [name for name in others if name != by], ascending=False, kind="stable"
    )
    ordered = ordered.reset_index(drop=True)
    ordered.attrs.update(table.attrs, ranked_by=by)
    return ordered


def largest_partitions(
    obj: Any, n: int | None = 5, by: SizeKey = "memory", *, progress: bool = True
) -> PartitionTable:
    """The ``n`` largest partitions of ``obj``, largest first.

    ``by`` is "memory" (the estimated bytes in memory once loaded: what a worker will
    hold, so the default), "rows" (top-level rows: objects in a nested catalog),
    "nested_rows" (e.g. observations in a catalog of light curves) or "bytes"
    (uncompressed Parquet bytes). ``obj`` is a Dask DataFrame or Series, an LSDB catalog,
    or a path to Parquet or HATS data. Sizes come from metadata when possible (no data is
    read), otherwise from counting every partition with a progress bar. Returns a
    ``PartitionTable`` (a pandas DataFrame) with columns label ("Order: 5, Pixel: 7457"
    for HEALPix pixels, the partition index otherwise), partition (index), rows,
    nested_rows (nested data only), bytes and memory; see ``partition_sizes``.
    """
    check_n(n)
    _check_by(by)
    sizes = partition_sizes(obj, progress=progress)
    if by not in sizes.columns:
        raise ValueError(f"by={by!r}: obj has no nested columns; use 'memory' or 'rows'")
    ordered = sorted_sizes(sizes, by)
    head = ordered if n is None else ordered.head(int(n))
    head.attrs.update(ordered.attrs)
    return head


# --------------------------------------------------------------------------- loading


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


def one_partition(target: Any, label: Any):
    """The one-partition collection of ``target`` (resolved) named by ``label``, uncomputed.

    An LSDB catalog's partition comes as a catalog (its ``compute`` shows progress).
    """
    key = _label_key(label)
    if _is_lsdb_catalog(target):
        pixels = _catalog_pixels(target)
        index = _find_partition([_pixel_label(p.order, p.pixel) for p in pixels], key)
        return target.get_partition(pixels[index].order, pixels[index].pixel)
    if isinstance(key, str):  # a pixel label: map it through the files' names
        plan = parquet_plan(target)
        paths = [] if plan is None else [[path for path, _ in p] for p in plan.partitions]
        labels = _labels_from_paths(paths) if paths else list(range(target.npartitions))
        index = _find_partition(labels, key)
    else:
        index = _find_partition(list(range(target.npartitions)), key)
    return target.partitions[index]


def partition_frame(target: Any, label: Any):
    """``one_partition`` as a Dask collection (an LSDB partition's Dask frame, no progress bar)."""
    part = one_partition(target, label)
    return _catalog_frame(part) if _is_lsdb_catalog(part) else part


LOAD_ATTR = "clustercraft_load"  # DataFrame.attrs key: what reading the partition cost


def load_partition(obj: Any, label: Any):
    """Compute and return one partition of ``obj``, named by a label from ``largest_partitions``.

    Reading it is measured (unless a distributed client computes it, or a meter already
    runs): ``part.attrs["clustercraft_load"]`` holds the peak and retained increments in
    bytes, so a later ``%%peakmem`` on it counts what a worker pays to read it.
    """
    from .meter import PeakMeter, measuring

    part = one_partition(resolve(obj), label)
    if measuring() or current_client() is not None:
        return part.compute()
    meter = PeakMeter()
    with meter:
        loaded = part.compute()
    if hasattr(loaded, "attrs"):
        loaded.attrs[LOAD_ATTR] = {
            "peak": max(meter.report.increment, 0),
            "retained": max(meter.report.retained, 0),
            "label": str(label if not isinstance(label, pd.Series) else label["label"]),
        }
    return loaded
