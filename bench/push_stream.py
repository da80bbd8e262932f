"""The panel's push stream for a synthetic cluster, shaped by the server's own code.

Prints one JSON line per update: ``full`` (the whole cluster object, as the push sent it
before deltas), ``delta`` (what the server sends now: ``cluster_delta`` against the previous
update; the first update is whole) and ``arrow_bytes`` (the rows as Arrow IPC plus the
summary as JSON, for comparison). bench/panel_bench.js feeds these to the panel in Chromium.

    python bench/push_stream.py --workers 1000 --updates 60 --share 0.167
"""

from __future__ import annotations

import argparse
import json

from clustercraft.schema import cluster_delta, worker_rows_to_arrow

GiB = 2**30


def worker_rows(workers: int, step: int, share: float) -> list[dict]:
    """Rows where only ``share`` of the workers report new values at ``step``.

    Worker ``i`` reports at every ``1 / share``-th step (as heartbeats spread out); between
    reports its row keeps the values of its last report.
    """
    rows = []
    every = max(1, round(1 / share))
    for i in range(workers):
        t = step - (step - i) % every  # the step of its last report
        memory = (0.2 + 0.75 * ((i * 7 + t * 13) % 100) / 100) * 4 * GiB
        host = f"10.0.{i >> 8}.{i & 255}"
        rows.append(
            {
                "name": str(i),
                "address": f"tcp://{host}:40000",
                "nthreads": 2,
                "memory_limit": 4 * GiB,
                "memory": round(memory),
                "managed_bytes": round(memory * 0.6),
                "spilled_bytes": 512 * 2**20 if (i + t) % 10 == 0 else 0,
                "cpu": ((i * 31 + t * 17) % 1000) / 10,
                "status": "running",
                "nanny": f"tcp://{host}:41000",
                "local_directory": f"/tmp/dask-scratch-space/worker-{i}",
                "dashboard": f"http://{host}:8787/status",
                "last_seen": 1.7e9 + t,
            }
        )
    return rows


def cluster(workers: int, step: int, share: float) -> dict:
    rows = worker_rows(workers, step, share)
    return {
        "id": "bench",
        "name": f"bench-{workers}",
        "status": "running",
        "scheduler_address": "tcp://10.0.0.1:8786",
        "dashboard_link": "http://10.0.0.1:8787/status",
        "n_workers": workers,
        "requested_workers": workers,
        "total_threads": 2 * workers,
        "total_memory": 4 * GiB * workers,
        "memory_used": sum(row["memory"] for row in rows),
        "processes": True,
        "adapt": None,
        "started": 1.7e9,
        "error": None,
        "workers": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--share", type=float, default=1.0, help="share of workers changing")
    args = parser.parse_args()
    previous = None
    for step in range(1, args.updates + 2):
        current = cluster(args.workers, step, args.share)
        full = {"type": "cluster", "cluster": current}
        delta = full if previous is None else cluster_delta(previous, current)
        summary = {key: value for key, value in current.items() if key != "workers"}
        arrow_bytes = len(worker_rows_to_arrow(current["workers"])) + len(
            json.dumps({"type": "cluster", "cluster": summary})
        )
        line = {"full": json.dumps(full), "delta": json.dumps(delta), "arrow_bytes": arrow_bytes}
        print(json.dumps(line))
        previous = current


if __name__ == "__main__":
    main()
