"""Partition sizes from Parquet metadata, without reading any data.

For every partition: rows, nested rows (the values of list columns, e.g. the observations
of a nested light-curve column), uncompressed Parquet bytes and an estimate of the bytes
it takes in memory once loaded. The estimate follows the Arrow schema: fixed-width values
at their width, strings and binaries with their offsets, lists with theirs. Uncompressed
Parquet bytes are no measure of memory: a dictionary-encoded string column of two bands
is a few kilobytes in the file and 9 bytes a value in memory.

Two sources: the footers of the files and row groups behind a Dask ``read_parquet``
collection, and a HATS catalog's ``dataset/_metadata`` (or each pixel's footer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

FOOTER_READERS = 16  # footers are tiny; threads hide the latency of remote filesystems
# HATS pixel paths: <catalog>/dataset/Norder=<o>/Dir=<d>/Npix=<p>.parquet (or Npix=<p>/ dirs)
HATS_PIXEL_PATH = re.compile(r"Norder=(\d+)\D.*Npix=(\d+)")
FIGURES = ("rows", "bytes", "nested_rows", "memory")  # what each partition gets, in order


def pixel_from_path(path: str) -> tuple[int, int] | None:
    match = HATS_PIXEL_PATH.search(path.replace("\\", "/"))
    return (int(match[1]), int(match[2])) if match else None


# --------------------------------------------------------------------------- memory model


@dataclass
class _Leaf:
    """One Parquet leaf column, and what one of its values costs in memory."""

    top: str  # the top-level column it belongs to
    width: float  # bytes a value takes (offsets included for strings and binaries)
    variable: bool  # strings and binaries: the data bytes come on top of ``width``
    list_offsets: int  # bytes per top-level row for the offsets of the lists around it


def _leaves(name: str, kind, top: str, list_offsets: int = 0) -> list[_Leaf]:
    """The leaves of an Arrow type, depth first: the order of Parquet's column chunks."""
    import pyarrow as pa

    types = pa.types
    if types.is_struct(kind):
        return [
            leaf
            for i in range(kind.num_fields)
            for leaf in _leaves(kind.field(i).name, kind.field(i).type, top, list_offsets)
        ]
    if types.is_list(kind) or types.is_large_list(kind) or types.is_fixed_size_list(kind):
        offset = 8 if types.is_large_list(kind) else 0 if types.is_fixed_size_list(kind) else 4
        return _leaves(name, kind.value_type, top, list_offsets + offset)
    if types.is_map(kind):
        return _leaves(name, kind.key_type, top, list_offsets + 4) + _leaves(
            name, kind.item_type, top, list_offsets + 4
        )
    if types.is_dictionary(kind):  # categoricals: an index a value, the dictionary is small
        return [_Leaf(top, kind.index_type.bit_width / 8, False, list_offsets)]
    large = types.is_large_string(kind) or types.is_large_binary(kind)
    if large or types.is_string(kind) or types.is_binary(kind):
        return [_Leaf(top, 8 if large else 4, True, list_offsets)]
    try:
        width = max(kind.bit_width / 8, 1)  # NumPy keeps booleans in a byte
    except ValueError:  # another variable-width type: take its Parquet bytes
        return [_Leaf(top, 0, True, list_offsets)]
    return [_Leaf(top, width, False, list_offsets)]


def _string_bytes(chunk) -> float:
    """Data bytes of a string or binary column chunk (its offsets are counted apart)."""
    plain = max(chunk.total_uncompressed_size - 4 * chunk.num_values, 0)  # 4-byte lengths
    if not chunk.has_dictionary_page:
        return plain
    # Dictionary-encoded: the file holds each distinct value once. Guess the values'
    # length from the min and max statistics.
    stats = chunk.statistics if chunk.is_stats_set else None
    if stats is None or not stats.has_min_max:
        return plain
    lengths = [len(v) for v in (stats.min, stats.max) if isinstance(v, (str, bytes))]
    if not lengths:
        return plain
    values = chunk.num_values - (stats.null_count or 0)
    return max(plain, values * sum(lengths) / len(lengths))


class RowGroupSizer:
    """Rows, Parquet bytes, nested rows and estimated memory of row groups of one schema."""

    def __init__(self, footer, columns: set[str]) -> None:
        self.columns = columns
        schema = footer.schema.to_arrow_schema()
        self.leaves: list[_Leaf] | None = [
            leaf for field in schema for leaf in _leaves(field.name, field.type, field.name)
        ]
        if len(self.leaves) != footer.num_columns:  # a schema we do not follow: no estimate
            self.leaves = None
        self.nested = {
            leaf.top for leaf in self.leaves or [] if leaf.list_offsets and leaf.top in columns
        }

    def __call__(self, row_group) -> np.ndarray:
        rows = row_group.num_rows
        nbytes = memory = 0.0
        nested: dict[str, int] = {}
        for i in range(row_group.num_columns):
            chunk = row_group.column(i)
            top = chunk.path_in_schema.split(".")[0]
            if top not in self.columns:
                continue
            nbytes += chunk.total_uncompressed_size
            if self.leaves is None:
                continue
            leaf = self.leaves[i]
            values = chunk.num_values  # for a column inside lists: one per element
            memory += values * leaf.width + leaf.list_offsets * (rows + 1)
            if leaf.variable:
                memory += _string_bytes(chunk) if leaf.width else chunk.total_uncompressed_size
            if leaf.list_offsets:
                nested[top] = max(nested.get(top, 0), values)
        if self.leaves is None:
            memory = nbytes
        return np.array([rows, nbytes, sum(nested.values()), memory], dtype="float64")


# --------------------------------------------------------------------------- Parquet plans


Piece = tuple[str, "list[int] | None"]  # one file, and its row groups (None: all of them)


@dataclass
class ParquetPlan:
    """Which files and row groups each partition of a ``read_parquet`` collection reads."""

    filesystem: Any
    partitions: list[list[Piece]]
    columns: list[str]  # top-level columns that will be loaded, index included


def loaded_columns(meta) -> list[str]:
    """Top-level columns a collection with this ``_meta`` loads, index included."""
    loaded = [meta.name] if isinstance(meta, pd.Series) else list(meta.columns)
    loaded += [name for name in meta.index.names if name is not None]
    return [str(name) for name in loaded]


def parquet_plan(ddf) -> ParquetPlan | None:
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
    return ParquetPlan(filesystem, partitions, loaded_columns(ddf._meta))


def _read_footers(paths: Iterable[str], filesystem: Any) -> dict[str, Any]:
    import pyarrow.parquet as pq

    unique = list(dict.fromkeys(paths))

    def footer(path: str):
        return pq.read_metadata(path, filesystem=filesystem)

    with ThreadPoolExecutor(max_workers=min(FOOTER_READERS, max(1, len(unique)))) as pool:
        return dict(zip(unique, pool.map(footer, unique), strict=True))


def parquet_sizes(plan: ParquetPlan) -> tuple[np.ndarray, list[str]]:
    """One row of ``FIGURES`` per partition, and the loaded columns that are nested."""
    footers = _read_footers(
        (path for pieces in plan.partitions for path, _ in pieces), plan.filesystem
    )
    sizes = np.zeros((len(plan.partitions), len(FIGURES)))
    if not footers:
        return sizes, []
    sizer = RowGroupSizer(next(iter(footers.values())), set(plan.columns))
    for k, pieces in enumerate(plan.partitions):
        for path, row_groups in pieces:
            footer = footers[path]
            for index in range(footer.num_row_groups) if row_groups is None else row_groups:
                sizes[k] += sizer(footer.row_group(index))
    return sizes, sorted(sizer.nested)


# --------------------------------------------------------------------------- HATS metadata


def _sum_by_pixel(footers: Iterable[Any], sizer: RowGroupSizer) -> dict[tuple[int, int], Any]:
    """``FIGURES`` per (order, pixel), from footers whose row groups name their files."""
    totals: dict[tuple[int, int], np.ndarray] = {}
    for footer, default_path in footers:
        for index in range(footer.num_row_groups):
            row_group = footer.row_group(index)
            pixel = pixel_from_path(row_group.column(0).file_path or default_path)
            if pixel is None:
                continue
            totals[pixel] = totals.get(pixel, 0) + sizer(row_group)
    return totals


def _read_footer(path) -> Any:
    import pyarrow.parquet as pq

    with path.open("rb") as file:
        return pq.read_metadata(file)


def hats_sizes(catalog, pixels: list) -> tuple[np.ndarray, list[str]] | None:
    """``FIGURES`` per pixel from the catalog's HATS metadata and the nested columns, or None."""
    structure = catalog.hc_structure
    # A query or cone search changes the rows inside pixels: the files no longer say.
    if getattr(structure, "catalog_path", None) is None or not structure.unmodified:
        return None
    dataset = structure.catalog_base_dir / "dataset"
    summary = dataset / "_metadata"
    if summary.exists():  # one file holds every row group's footer
        footers = [(_read_footer(summary), "")]
    else:
        files = sorted(dataset.rglob("*.parquet"), key=str)
        with ThreadPoolExecutor(max_workers=FOOTER_READERS) as pool:
            footers = list(zip(pool.map(_read_footer, files), map(str, files), strict=True))
    if not footers:
        return None
    sizer = RowGroupSizer(footers[0][0], set(loaded_columns(catalog.meta)))
    totals = _sum_by_pixel(footers, sizer)
    found = [totals.get((pixel.order, pixel.pixel)) for pixel in pixels]
    if any(total is None for total in found):
        return None
    return np.vstack(found), sorted(sizer.nested)
