"""A probe worker: one real Dask worker process, started from this kernel's Python, to measure
what a worker needs. ``profile_partitions`` runs partitions in it; ``%%peakmem`` asks it
for a worker's own memory with the cell's libraries imported (``worker_base``).

One worker, one thread, no memory limit (it must not be restarted while measured), on
loopback with no dashboards; closed by whoever opened it, also on errors and interrupts.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .meter import read_status, release_memory

# Imported by any DataFrame task (the worker base counts them even if the cell names none).
DATAFRAME_MODULES = ("numpy", "pandas", "pyarrow", "dask.dataframe")
# Top-level packages a worker never imports for a task: the notebook's own machinery.
NOT_WORKER_MODULES = frozenset(
    {"IPython", "ipykernel", "ipywidgets", "jupyter_client", "traitlets", "clustercraft"}
)
POLL_INTERVAL = 0.2  # seconds between reads of the worker's memory while a task runs
REAP_TIMEOUT = 5.0  # seconds a closed probe's worker process may take to be reaped

_bases: dict[tuple[str, ...], int] = {}  # worker base by module set, once per kernel
_bases_lock = threading.Lock()


def worker_modules(modules: Iterable[str]) -> tuple[str, ...]:
    """Top-level packages a worker imports for these modules, plus the DataFrame stack."""
    found = set(DATAFRAME_MODULES)
    for name in modules:
        top = name.split(".")[0]
        if top and top not in sys.stdlib_module_names and top not in NOT_WORKER_MODULES:
            found.add(top)
    found.discard("__main__")
    return tuple(sorted(found))


def import_and_read(modules: Iterable[str]) -> int:
    """(In the worker) import ``modules``, give freed memory back, return the process's RSS."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # not importable there: the task would not import it either
            continue
    release_memory()
    return read_status()["VmRSS"]


def process_memory(pid: int) -> tuple[int, int]:
    """(current RSS, high-water mark) of a local process, in bytes."""
    try:
        status = read_status(pid)
        return status["VmRSS"], status["VmHWM"]
    except (OSError, KeyError):
        import psutil

        rss = psutil.Process(pid).memory_info().rss
        return rss, rss


class ProbeCluster:
    """``with ProbeCluster() as probe: probe.run(fn, ...)``: one worker process, then nothing.

    ``start_seconds`` is what starting it cost. The worker runs this kernel's interpreter
    (``sys.executable``), so it imports exactly the libraries the kernel has.
    """

    def __init__(self) -> None:
        self.cluster = None
        self.client = None
        self.pid: int | None = None
        self.start_seconds = 0.0
        self.close_seconds = 0.0

    def __enter__(self) -> ProbeCluster:
        started = time.perf_counter()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _start(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        # The kernel may configure a forkserver or another start method; a fresh spawn
        # measures what a worker started anywhere else holds. The nanny sets its workers'
        # environment (OMP_NUM_THREADS=1, ...) in this process's: the kernel gets its own back.
        environ = dict(os.environ)
        with (
            dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}),
            _restored(environ),
        ):
            self.cluster = LocalCluster(
                n_workers=1,
                threads_per_worker=1,
                processes=True,
                memory_limit=0,  # a probe must never be paused or restarted for memory
                host="127.0.0.1",
                scheduler_port=0,
                dashboard_address=None,
                worker_dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        self.client = Client(self.cluster, set_as_default=False)
        pids = self.client.run(os.getpid)
        (self.pid,) = pids.values()

    def run(self, fn: Callable, /, *args: Any) -> Any:
        """Call ``fn(*args)`` in the worker process, outside any task."""
        (result,) = self.client.run(fn, *args).values()
        return result

    def submit(
        self,
        fn: Callable,
        /,
        *args: Any,
        progress: Callable[[int, int], None] | None = None,
    ) -> Any:
        """Run ``fn(*args)`` as a task in the worker; ``progress(rss, hwm)`` while it runs."""
        future = self.client.submit(fn, *args, pure=False)
        try:
            while progress is not None and not future.done():
                progress(*process_memory(self.pid))
                time.sleep(POLL_INTERVAL)
            return future.result()
        finally:
            future.release()

    def close(self) -> None:
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        started = time.perf_counter()
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                _kill_worker(cluster, self.pid)
                cluster.close()
            if self.pid is not None:
                _wait_reaped(self.pid)
            self.close_seconds = time.perf_counter() - started


def _kill_worker(cluster, pid: int | None) -> None:
    """End the worker process at once: a probe holds nothing worth a graceful stop, which
    takes a loaded machine seconds. Its nanny is told not to start another."""
    import psutil

    for nanny in cluster.workers.values():
        if hasattr(nanny, "auto_restart"):
            nanny.auto_restart = False
    if pid is not None:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()


@contextlib.contextmanager
def _restored(environ: dict[str, str]):
    try:
        yield
    finally:
        for name in set(os.environ) - set(environ):
            del os.environ[name]
        os.environ.update(environ)


def _wait_reaped(pid: int, timeout: float = REAP_TIMEOUT) -> None:
    """Wait until the worker process is gone, zombie included: reaped later, it would
    count in the kernel's children's peak (``RUSAGE_CHILDREN``) of the next measurement."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            psutil.Process(pid).status()
        except psutil.NoSuchProcess:
            return
        time.sleep(0.01)


def worker_base(modules: Iterable[str] = ()) -> int:
    """RSS of a fresh Dask worker process with ``modules`` imported (measured once per set)."""
    key = worker_modules(modules)
    with _bases_lock:
        if key not in _bases:
            with ProbeCluster() as probe:
                _bases[key] = probe.run(import_and_read, key)
        return _bases[key]
