"""The browser's test fixtures come from the real Python code, so the two sides cannot drift.

src/__tests__/data/workers.{json,arrow} are what ``worker_row`` and ``worker_rows_to_arrow``
make of two scheduler identities; jest decodes the Arrow and compares it with the JSON.
cluster.json is what ``cluster_model`` makes of them; jest draws it in a card. When
the schema changes on purpose, rewrite them with

    CLUSTERCRAFT_WRITE_FIXTURES=1 pytest clustercraft/tests/test_frontend_fixtures.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from clustercraft.schema import cluster_model, worker_row, worker_rows_to_arrow

DATA = Path(__file__).resolve().parents[2] / "src" / "__tests__" / "data"
WRITE = os.environ.get("CLUSTERCRAFT_WRITE_FIXTURES") == "1"

# Two workers as Scheduler.identity()["workers"] reports them: one busy (a byte count past
# 2**40, spilled bytes, a dashboard), one bare (nothing optional, a non-ASCII name).
IDENTITIES = {
    "tcp://127.0.0.1:40000": {
        "name": 0,
        "nthreads": 1,
        "memory_limit": 4 * 2**30,
        "host": "127.0.0.1",
        "services": {"dashboard": 40001},
        "nanny": "tcp://127.0.0.1:39000",
        "local_directory": "/tmp/dask-scratch-space/worker-0",
        "status": "running",
        "last_seen": 1750000000.25,
        "metrics": {
            "memory": 2**40 + 7,
            "memory_peak": 2**40 + 2**30 + 12,
            "managed_bytes": 123,
            "spilled_bytes": {"memory": 0, "disk": 0},
            "cpu": 12.5,
        },
    },
    "tcp://127.0.0.1:40002": {
        "name": "worker-é",
        "nthreads": 4,
        "status": "paused",
        "metrics": {"spilled_bytes": {"disk": 5}},
    },
}


# The second worker runs in a job-queue job.
JOBS = {"tcp://127.0.0.1:40002": ("4242", "RUNNING")}


def rows() -> list[dict]:
    return [
        worker_row(address, info, JOBS.get(address, (None, None)))
        for address, info in IDENTITIES.items()
    ]


def check_or_write(path: Path, content: bytes) -> None:
    if WRITE:
        path.write_bytes(content)
    assert path.read_bytes() == content, (
        f"{path.name} is not what the Python code makes now; if the schema changed on "
        "purpose, rewrite it with CLUSTERCRAFT_WRITE_FIXTURES=1"
    )


def test_worker_rows_json_fixture_is_what_python_makes():
    text = json.dumps(rows(), indent=1, ensure_ascii=False)
    check_or_write(DATA / "workers.json", text.encode())


def test_worker_rows_arrow_fixture_is_what_python_makes():
    check_or_write(DATA / "workers.arrow", worker_rows_to_arrow(rows()))


def test_cluster_json_fixture_is_what_python_makes():
    cluster = cluster_model(
        "c0ffee",
        "survey",
        "running",
        rows(),
        profile="local",
        scheduler_address="tls://127.0.0.1:8786",
        dashboard_link="/clustercraft/dashboard/c0ffee/status",
        requested_workers=3,
        adapt={"minimum": 1, "maximum": 3},
        started=1750000000.0,
        memory_restarts=1,
        memory_peak_method="hwm",
    )
    text = json.dumps(cluster, indent=1, ensure_ascii=False)
    check_or_write(DATA / "cluster.json", text.encode())
