"""WorkerPeak where the kernel's high-water mark is out of reach: the sampled fallback."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from distributed import Client, LocalCluster

from clustercraft import worker_peak
from clustercraft.schema import worker_rows
from clustercraft.sizing.recommend import verdict
from clustercraft.tests.groundtruth import MiB


def no_proc(*args, **kwargs):
    raise OSError("no /proc here")


@pytest.fixture
def client_without_proc(monkeypatch):
    # The globals the plugin's methods use: the module's, or (once a by-value copy of the
    # plugin was unpickled in this process, which updates the class) the copy's.
    plugin_globals = worker_peak.WorkerPeak.setup.__globals__
    monkeypatch.setitem(plugin_globals, "read_status", no_proc)
    monkeypatch.setitem(plugin_globals, "reset_hwm", lambda: None)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(worker_peak.WorkerPeak())
        yield client


def wait_for_row(client, predicate, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        info = client.scheduler_info(n_workers=-1)["workers"]
        [row] = worker_rows(info)
        if predicate(row):
            return row
        assert time.monotonic() < deadline, row
        time.sleep(0.05)


def test_without_proc_the_peak_is_the_highest_sampled_rss_and_says_so(client_without_proc):
    client = client_without_proc
    client.submit(int, 1).result()  # a run to judge: the verdict speaks only after a task
    block = np.ones(150 * MiB // 8)
    time.sleep(1.2)  # more than two of Dask's 0.5 s memory samples see it
    held = max(client.run(lambda dask_worker: dask_worker.monitor.get_process_memory()).values())
    del block
    # Once the freed block is gone from Dask's current memory, the peak still holds it.
    row = wait_for_row(client, lambda r: r["memory"] < held - 100 * MiB)
    assert row["memory_peak"] >= held - 5 * MiB, (row, held)
    info = client.scheduler_info(n_workers=-1)["workers"]
    assert worker_peak.peak_method(info) == "sampled"
    found = verdict({"memory_peak_method": "sampled", "workers": [row]})
    assert found["text"].endswith("(peaks sampled: short spikes can be missed)")

    # Reset peaks starts again from the current RSS, still sampled.
    client.sync(client.scheduler.broadcast, **worker_peak.reset_message())
    row = wait_for_row(client, lambda r: r["memory_peak"] < held - 100 * MiB)
    assert worker_peak.peak_method(client.scheduler_info(n_workers=-1)["workers"]) == "sampled"


# Run on a "worker" where clustercraft cannot be imported: the plugin must still load.
LOAD_WITHOUT_CLUSTERCRAFT = """
import pickle, sys, types
sys.modules["clustercraft"] = None
plugin = pickle.loads(sys.stdin.buffer.read())
class Monitor:
    count = 0
    def get_process_memory(self): return 0
    def range_query(self, start): return {"memory": []}
worker = types.SimpleNamespace(monitor=Monitor(), metrics={}, handlers={})
plugin.setup(worker)
print(plugin.method, worker.metrics["memory_peak"](worker))
"""


def test_the_registered_plugin_loads_on_workers_without_clustercraft(tmp_path):
    # A worker that cannot unpickle a registered plugin cannot join the cluster at all.
    registration = worker_peak.plugin_registration()
    done = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_CLUSTERCRAFT],
        input=registration["plugin"],
        capture_output=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        check=True,
    )
    method, peak = done.stdout.decode().split()
    assert method == "hwm"
    assert int(peak) > 10 * MiB  # a Python process with distributed imported
