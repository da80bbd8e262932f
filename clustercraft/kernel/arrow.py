"""Arrow IPC encoding of what the inline widgets send: worker-row deltas and memory timelines.

Worker rows use the one schema in ``clustercraft.schema`` (the panel's REST route sends the
same stream), so the browser decodes both with the same code (src/widgets/arrow.ts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from ..schema import worker_rows_to_arrow

TIMELINE_SCHEMA = pa.schema([("t", pa.float64()), ("rss", pa.int64())])
# Points a timeline may have when it leaves the kernel: two per pixel of a wide chart.
TIMELINE_MAX_POINTS = 800

encode_rows = worker_rows_to_arrow


def decode_table(data: bytes | memoryview) -> list[dict[str, Any]]:
    """The rows of an Arrow IPC stream as dicts (the inverse of ``encode_rows``)."""
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all().to_pylist()


def bound_timeline(
    points: Sequence[tuple[float, int]], max_points: int = TIMELINE_MAX_POINTS
) -> list[tuple[float, int]]:
    """At most ``max_points`` points: the lowest and highest of each time bucket, in order.

    The highest point of the whole timeline (its peak) always survives, and so do dips.
    """
    if len(points) <= max_points:
        return list(points)
    buckets = max(max_points // 2, 1)
    size = len(points) / buckets
    bounded: list[tuple[float, int]] = []
    for b in range(buckets):
        bucket = points[int(b * size) : int((b + 1) * size)]
        if not bucket:
            continue
        low = min(bucket, key=lambda p: p[1])
        high = max(bucket, key=lambda p: p[1])
        bounded += sorted({low, high}, key=lambda p: p[0])
    return bounded


def encode_timeline(points: Sequence[tuple[float, int]]) -> bytes:
    """A (seconds, RSS bytes) timeline as an Arrow IPC stream with columns ``t`` and ``rss``."""
    table = pa.Table.from_pydict(
        {"t": [float(t) for t, _ in points], "rss": [int(rss) for _, rss in points]},
        schema=TIMELINE_SCHEMA,
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, TIMELINE_SCHEMA) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
