"""largest_partitions on a 2,000-partition Parquet dataset: footers against counting.

Compares, in one run and on the same collection:
  metadata  clustercraft.largest_partitions(ddf)   (Parquet footers, no data read)
  counted   ddf.map_partitions(len).compute()      (what users write today)
and, for reference, clustercraft's own counting path (forced with a row filter).

    .venv/bin/python bench/bench_partitions.py [--partitions 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from clustercraft.sizing.partitions import largest_partitions, partition_sizes


def write_dataset(root: Path, partitions: int, seed: int = 0) -> int:
    """One file per partition, uneven row counts; returns the total row count."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(200, 3_000, size=partitions)
    for i, n in enumerate(rows):
        table = pa.table(
            {
                "object_id": np.arange(n, dtype="int64"),
                "mjd": rng.uniform(58_000, 59_000, n),
                "mag": rng.normal(18, 1, n).astype("float32"),
            }
        )
        pq.write_table(table, root / f"part.{i:05d}.parquet")
    return int(rows.sum())


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-partitions-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        total = write_dataset(root, args.partitions)
        print(
            f"dataset: {args.partitions} files, {total:,} rows, written in "
            f"{time.perf_counter() - start:.1f} s"
        )

        start = time.perf_counter()
        ddf = dd.read_parquet(root)
        print(
            f"dd.read_parquet planning (shared by both): {time.perf_counter() - start:.2f} s, "
            f"{ddf.npartitions} partitions"
        )

        metadata_s, top = timed(lambda: largest_partitions(ddf, n=5), args.repeat)
        counted_s, lengths = timed(lambda: ddf.map_partitions(len).compute(), args.repeat)
        filtered = ddf[ddf["mag"] > -1e9]  # keeps every row, but forces counting
        ours_s, ours = timed(lambda: partition_sizes(filtered, progress=False), 1)

        footers = partition_sizes(ddf)["rows"].tolist()
        assert footers == lengths.tolist(), "footer row counts disagree with map_partitions(len)"
        assert footers == ours["rows"].tolist(), "footer row counts disagree with counting"
        assert top["rows"].iloc[0] == max(footers)

        print(f"\n{'path':<48}{'median s':>10}{'ratio':>10}")
        print(f"{'largest_partitions (Parquet footers)':<48}{metadata_s:>10.3f}{1:>10.1f}")
        print(
            f"{'ddf.map_partitions(len).compute()':<48}{counted_s:>10.3f}"
            f"{counted_s / metadata_s:>10.1f}"
        )
        print(
            f"{'largest_partitions, counted (row filter, 1 run)':<48}{ours_s:>10.3f}"
            f"{ours_s / metadata_s:>10.1f}"
        )
        print(
            f"\nmetadata path is {counted_s / metadata_s:.1f}x faster than "
            f"map_partitions(len) on {ddf.npartitions} partitions; row counts agree."
        )


if __name__ == "__main__":
    main()
