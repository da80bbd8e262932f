"""The one worker-row schema, shared by the server's hosts and the kernel's widgets.

Imports only the standard library at module level, so the Jupyter server, the kernel and
the cluster host process can all use it cheaply; pyarrow is imported only when an Arrow
stream is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ARROW_STREAM_MIME = "application/vnd.apache.arrow.stream"

# Column name -> Arrow type name; the order is the column order of every worker table.
WORKER_ROW_FIELDS: dict[str, str] = {
    "name": "string",
    "address": "string",
    "nthreads": "int64",
    "memory_limit": "int64",
    "memory": "int64",
    "memory_peak": "int64",
    "managed_bytes": "int64",
    "spilled_bytes": "int64",
    "cpu": "float64",
    "status": "string",
    "nanny": "string",
    "local_directory": "string",
    "dashboard": "string",
    "last_seen": "float64",
    # Job-queue workers: the job that runs the worker and its state in the queue.
    "job_id": "string",
    "job_state": "string",
    # Whether the worker started a task since it started or since "Reset peaks" (WorkerPeak).
    "ran_tasks": "bool_",
}


def worker_row(
    address: str, info: Mapping[str, Any], job: tuple[str | None, str | None] = (None, None)
) -> dict[str, Any]:
    """One worker row from a scheduler's worker identity.

    ``info`` is ``WorkerState.identity()`` as found in ``Scheduler.identity()["workers"]``
    or ``Client.scheduler_info()["workers"]``, so the panel and the inline widget agree;
    ``job`` the (id, state) of the job-queue job that runs the worker.
    """
    metrics = info.get("metrics") or {}
    spilled = metrics.get("spilled_bytes") or {}
    services = info.get("services") or {}
    dashboard_port = services.get("dashboard")
    host = info.get("host")
    return {
        "name": str(info.get("name", address)),
        "address": address,
        "nthreads": int(info.get("nthreads") or 0),
        "memory_limit": int(info.get("memory_limit") or 0),
        "memory": int(metrics.get("memory") or 0),
        # Reported by clustercraft's WorkerPeak plugin; 0 where a worker does not run it.
        "memory_peak": int(metrics.get("memory_peak") or 0),
        "managed_bytes": int(metrics.get("managed_bytes") or 0),
        # "disk" is what actually left memory; dask's dashboard reports the same number.
        "spilled_bytes": int(spilled.get("disk") or 0),
        "cpu": float(metrics.get("cpu") or 0.0),
        "status": str(info.get("status") or "unknown"),
        "nanny": info.get("nanny"),
        "local_directory": info.get("local_directory"),
        "dashboard": f"http://{host}:{dashboard_port}/status" if dashboard_port else None,
        "last_seen": float(info.get("last_seen") or 0.0),
        "job_id": job[0],
        "job_state": job[1],
        # None where the worker does not run WorkerPeak: nothing is known of its tasks.
        "ran_tasks": None if metrics.get("ran_tasks") is None else bool(metrics["ran_tasks"]),
    }


def worker_rows(
    workers: Mapping[str, Mapping[str, Any]],
    jobs: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> list[dict[str, Any]]:
    """Rows for every worker of ``scheduler_info()["workers"]``, sorted by name; ``jobs``:
    worker name -> (job id, job state), for workers that job queues run."""
    jobs = jobs or {}
    rows = [
        worker_row(address, info, jobs.get(str(info.get("name", address)), (None, None)))
        for address, info in workers.items()
    ]
    return sorted(rows, key=_natural_key)


def _natural_key(row: Mapping[str, Any]) -> tuple:
    # Worker names are often "0", "1", ..., "10": sort them as numbers.
    name = row["name"]
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def worker_rows_to_arrow(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Worker rows as an Arrow IPC stream (one record batch)."""
    import pyarrow as pa

    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in WORKER_ROW_FIELDS.items()])
    rows = list(rows)
    columns = {name: [row.get(name) for row in rows] for name in WORKER_ROW_FIELDS}
    table = pa.Table.from_pydict(columns, schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


# A row counts as changed when any of these differ; last_seen moves on every heartbeat
# and is not shown, so alone it would make every row "changed" every second.
COMPARED_FIELDS = tuple(name for name in WORKER_ROW_FIELDS if name != "last_seen")


def cluster_model(
    id: str,
    name: str,
    status: str,
    rows: list[dict[str, Any]],
    *,
    origin: str = "panel",
    kernel: Mapping[str, Any] | None = None,
    profile: str | None = None,
    scheduler_address: str | None = None,
    dashboard_link: str | None = None,
    requested_workers: int | None = None,
    processes: bool = True,
    adapt: Mapping[str, int] | None = None,
    started: float = 0.0,
    error: str | None = None,
    jobs: Mapping[str, Any] | None = None,
    recording: float | None = None,
    memory_restarts: int = 0,
    memory_peak_method: str | None = None,
) -> dict[str, Any]:
    """The one cluster object: of the REST routes, the panel's push, the widget's summary.

    ``status``: "starting", "running", "closing", "lost" or (a kernel's ClusterInfo once its
    client or cluster closed) "closed"; ``origin``: "panel", "kernel" (``kernel``: its {id,
    pid, notebook}) or "address"; ``rows`` from ``worker_rows``,
    whose totals it adds up; ``requested_workers``: the target of "2 / 4 workers" (the rows'
    count when not given); ``adapt``: ``{minimum, maximum}`` or None; ``started``: epoch
    seconds; ``error``: why workers are missing or the cluster failed, for the card; ``jobs``:
    a job queue's running and pending jobs; ``recording``: when a performance report started;
    ``memory_restarts``: workers their nannies restarted for memory since the last reset.
    """
    return {
        "id": id,
        "name": name,
        "origin": origin,
        "kernel": dict(kernel) if kernel else None,
        "profile": profile,
        "status": status,
        "scheduler_address": scheduler_address,
        "dashboard_link": dashboard_link,
        "n_workers": len(rows),
        "requested_workers": len(rows) if requested_workers is None else requested_workers,
        "total_threads": sum(row["nthreads"] for row in rows),
        "total_memory": sum(row["memory_limit"] for row in rows),
        "memory_used": sum(row["memory"] for row in rows),
        "processes": processes,
        "adapt": dict(adapt) if adapt else None,
        "started": started,
        "error": error,
        "jobs": dict(jobs) if jobs else None,
        "recording": recording,
        "memory_restarts": memory_restarts,
        "memory_peak_method": memory_peak_method,
        "workers": rows,
    }


def diff_rows(
    sent: Mapping[str, Mapping[str, Any]],
    rows: Iterable[Mapping[str, Any]],
    fields: Iterable[str] = COMPARED_FIELDS,
) -> tuple[list[Mapping[str, Any]], list[str]]:
    """Rows that are new or changed against ``sent`` (keyed by address), and removed addresses."""
    rows = list(rows)
    fields = tuple(fields)
    changed = [
        row
        for row in rows
        if (old := sent.get(row["address"])) is None
        or any(old.get(name) != row.get(name) for name in fields)
    ]
    present = {row["address"] for row in rows}
    removed = [address for address in sent if address not in present]
    return changed, removed


def cluster_delta(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any] | None:
    """What changed from one cluster object to the next, as the panel's push sends it.

    ``{"type": "delta", "id", "cluster": {changed summary fields}, "upserted": [rows],
    "removed": [addresses]}``, or None when nothing changed. Rows are keyed by address, as
    the inline widget's deltas are.
    """
    summary = {
        key: value for key, value in new.items() if key != "workers" and old.get(key) != value
    }
    sent = {row["address"]: row for row in old.get("workers") or []}
    upserted, removed = diff_rows(sent, new.get("workers") or [])
    if not (summary or upserted or removed):
        return None
    return {
        "type": "delta",
        "id": new["id"],
        "cluster": summary,
        "upserted": upserted,
        "removed": removed,
    }
