"""Inline widgets: Arrow round trips, ClusterInfo deltas on a real cluster, peak report state,
and the display hooks in a real kernel."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from distributed import Client, LocalCluster

from clustercraft.kernel.arrow import bound_timeline, decode_table, encode_rows, encode_timeline
from clustercraft.kernel.widgets import ClusterInfo, PeakReportWidget
from clustercraft.schema import COMPARED_FIELDS, WORKER_ROW_FIELDS, diff_rows, worker_rows
from clustercraft.sizing.meter import read_status
from clustercraft.sizing.peakmem import peak_memory
from clustercraft.tests.groundtruth import MiB, tolerance
from clustercraft.tests.kernels import shutdown_kernel


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    with Client(cluster) as client:
        yield client
    cluster.scale(2)
    cluster.sync(cluster._correct_state)


class Sent:
    """Records what a widget sends as custom messages."""

    def __init__(self, widget) -> None:
        self.messages: list[tuple[dict, list]] = []
        widget.send = lambda content, buffers=None: self.messages.append((content, buffers or []))


def test_arrow_round_trip_of_real_worker_rows(client):
    rows = worker_rows(client.scheduler_info(n_workers=-1)["workers"])
    assert len(rows) == 2
    decoded = decode_table(encode_rows(rows))
    assert decoded == rows
    assert list(decoded[0]) == list(WORKER_ROW_FIELDS)


def test_diff_rows_keeps_only_changed_added_and_removed():
    base = {"name": "0", "nthreads": 1, "memory": 10, "last_seen": 1.0}
    sent = {"a": {**base, "address": "a"}, "b": {**base, "address": "b", "name": "1"}}
    rows = [
        {**sent["a"], "last_seen": 2.0},  # only the heartbeat moved: unchanged
        {**base, "address": "c", "name": "2"},  # new
    ]
    fields = ("name", "address", "nthreads", "memory")
    changed, removed = diff_rows(sent, rows, fields)
    assert [r["address"] for r in changed] == ["c"]
    assert removed == ["b"]
    changed, _ = diff_rows(sent, [{**sent["a"], "memory": 11}], fields)
    assert [r["memory"] for r in changed] == [11]
    assert "last_seen" not in COMPARED_FIELDS and "memory" in COMPARED_FIELDS


def test_cluster_info_state_and_deltas(client, cluster):
    widget = ClusterInfo(client, interval=None)
    try:
        assert widget._model_name == "ClusterInfoModel"
        assert widget._model_module == "clustercraft"
        assert widget.summary["n_workers"] == 2
        assert widget.summary["scheduler_address"] == cluster.scheduler_address
        initial = decode_table(widget.rows)
        assert sorted(r["address"] for r in initial) == sorted(cluster.scheduler.workers)

        sent = Sent(widget)
        cluster.scale(3)
        client.wait_for_workers(3, timeout=30)
        changed, removed = widget.update()
        content, buffers = sent.messages[-1]
        assert content["type"] == "delta" and content["removed"] == []
        assert content["summary"]["n_workers"] == 3
        delivered = decode_table(buffers[0])
        assert delivered == changed
        new = set(cluster.scheduler.workers) - {r["address"] for r in initial}
        assert new <= {r["address"] for r in delivered}
        # Only what changed travels: the new worker at least, never more than all three.
        assert 1 <= len(delivered) <= 3

        cluster.scale(2)
        deadline = time.monotonic() + 30
        while len(cluster.scheduler.workers) > 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        _, removed = widget.update()
        assert len(removed) == 1 and removed[0] not in cluster.scheduler.workers
        assert sent.messages[-1][0]["removed"] == removed

        widget.send_snapshot()
        content, buffers = sent.messages[-1]
        assert content["type"] == "snapshot"
        assert sorted(r["address"] for r in decode_table(buffers[0])) == sorted(
            cluster.scheduler.workers
        )
    finally:
        widget.close()


def test_cluster_info_mimebundle_has_static_fallbacks(client):
    widget = ClusterInfo(client, interval=None)
    try:
        bundle = widget._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert "<th>Worker</th>" in bundle["text/html"]
        assert bundle["text/html"].count("<tr>") == 3  # header + 2 workers
        assert "2 workers" in bundle["text/plain"]
    finally:
        widget.close()


def test_cluster_info_rows_carry_each_workers_peak_and_reset_peaks_resets_it(client):
    widget = ClusterInfo(client, interval=None)
    sent = Sent(widget)
    try:
        # These workers are threads of this process, so their peak is this process's.
        widget._on_frontend_msg(widget, {"type": "reset_peaks"}, [])
        client.submit(int, 1).result()  # a run: the verdict speaks only once a task started
        block = np.ones(200 * MiB // 8)
        truth = read_status()["VmRSS"]
        del block

        def peaks() -> list[int]:
            widget.update()
            return [row["memory_peak"] for row in widget.sent.values()]

        deadline = time.monotonic() + 10
        while min(peaks()) < truth - tolerance(truth):
            assert time.monotonic() < deadline, (peaks(), truth)
            time.sleep(0.05)
        assert all(abs(peak - truth) <= tolerance(truth) for peak in peaks()), (peaks(), truth)
        assert widget.current_summary["memory_restarts"] == 0
        assert widget.current_summary["memory_peak_method"] == "hwm"
        assert "Peak" in widget.text().splitlines()[2]
        assert "Largest worker peak " in widget.text()

        widget._on_frontend_msg(widget, {"type": "reset_peaks"}, [])
        content, buffers = sent.messages[-1]
        assert content["type"] == "delta"
        delivered = decode_table(buffers[0])
        assert len(delivered) == 2
        assert all(row["memory_peak"] < truth - 100 * MiB for row in delivered)
    finally:
        widget.close()


def test_cluster_info_thread_updates_then_stops_when_client_closes(cluster):
    client = Client(cluster)
    widget = ClusterInfo(client, interval=0.05)
    sent = Sent(widget)
    try:
        assert widget.running
        widget._on_frontend_msg(widget, {"type": "snapshot"}, [])
        assert sent.messages[-1][0]["type"] == "snapshot"
        addresses = sorted(widget.sent)
        client.close()
        deadline = time.monotonic() + 10
        while widget.running:
            assert time.monotonic() < deadline, "the updater outlived its client"
            time.sleep(0.05)
        # The final state: closed, every worker row removed (none left saying "running").
        content, buffers = sent.messages[-1]
        assert content["summary"]["status"] == "closed"
        assert content["summary"]["n_workers"] == 0 and content["summary"]["total_memory"] == 0
        assert content["summary"]["dashboard_link"] is None
        assert sorted(content["removed"]) == addresses and buffers == []
        assert widget.sent == {} and widget.text().startswith(
            f"{cluster.scheduler_address}: closed"
        )
        widget._on_frontend_msg(widget, {"type": "snapshot"}, [])  # a reloaded page
        content, buffers = sent.messages[-1]
        assert content["summary"]["status"] == "closed" and decode_table(buffers[0]) == []
        count = len(sent.messages)
        widget._on_frontend_msg(widget, {"type": "reset_peaks"}, [])  # nothing to reset
        assert len(sent.messages) == count
    finally:
        widget.close()
        client.close()
    assert not [t for t in threading.enumerate() if t.name == "clustercraft-clusterinfo"]


def test_cluster_info_pauses_while_hidden_and_close_joins(client):
    widget = ClusterInfo(client, interval=0.02)
    widget._on_frontend_msg(widget, {"type": "visible", "visible": False}, [])
    sent = Sent(widget)
    time.sleep(0.2)
    assert sent.messages == []  # hidden: no updates
    widget.close()
    assert not widget.running


def test_cluster_info_refuses_other_objects():
    with pytest.raises(TypeError, match="Client or a Dask cluster"):
        ClusterInfo(object(), interval=None)


def test_bound_timeline_keeps_peak_and_bounds_length():
    points = [(i * 0.001, 100 + (i % 7)) for i in range(100_000)]
    points[54_321] = (54.321, 10_000)
    bounded = bound_timeline(points, 800)
    assert len(bounded) <= 800
    assert (54.321, 10_000) in bounded
    assert [t for t, _ in bounded] == sorted(t for t, _ in bounded)
    assert bound_timeline(points[:10], 800) == points[:10]
    decoded = decode_table(encode_timeline(bounded))
    assert [(r["t"], r["rss"]) for r in decoded] == bounded


def test_peak_report_widget_live_then_final():
    widget = PeakReportWidget()
    try:
        assert widget.live["running"] is True and widget.report == {}
        meter = peak_memory(progress=widget.progress)
        with meter:
            block = bytearray(64 * 2**20)
            time.sleep(0.5)
            del block
        assert widget.live["running"] is True
        assert widget.live["peak"] >= widget.live["current"] > 0
        widget.finish(meter.report)
        assert widget.live == {"running": False}
        assert widget.report["peak"] == meter.report.peak
        assert "timeline" not in widget.report
        timeline = decode_table(widget.timeline)
        assert len(timeline) == len(bound_timeline(meter.report.timeline))
        assert max(r["rss"] for r in timeline) == max(rss for _, rss in meter.report.timeline)
        recommendation = meter.report.recommendation
        assert f"n_workers={recommendation.n_workers}" in widget.code
        assert "Peak memory" in widget._repr_mimebundle_()["text/html"]
        widget.progress(1, 2)  # too late: the final report stays
        assert widget.live == {"running": False}
    finally:
        widget.close()


def test_profile_report_widget_live_then_final():
    import dask.dataframe as dd
    import pandas as pd

    import clustercraft
    from clustercraft.kernel.widgets import ProfileReportWidget

    frame = dd.from_pandas(pd.DataFrame({"x": range(1000)}), npartitions=2)
    widget = ProfileReportWidget()
    try:
        assert widget._view_name == "ProfileReportView" and widget.live["running"] is True
        report = clustercraft.profile_partitions(frame, len, n=2, progress=widget.progress)
        assert widget.live["running"] is True
        assert (widget.live["partition"], widget.live["of"]) == (2, 2)  # the last one, done
        assert widget.live["peak"] >= widget.live["current"] > 0
        widget.finish(report)
        assert widget.live == {"running": False}
        assert [row["rows"] for row in widget.report["partitions"]] == [500, 500]
        assert widget.report["columns"][:2] == ["label", "rows"]
        assert f"n_workers={report.recommendation.n_workers}" in widget.code
        bundle = widget._repr_mimebundle_()
        assert "Worker peak" in bundle["text/plain"] and "<svg" in bundle["text/html"]
    finally:
        widget.close()


# ---------------------------------------------------------------- in a real kernel

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def kernel():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    yield client
    client.execute_interactive("client.close()", timeout=30)
    shutdown_kernel(manager, client)


def run(kernel, code: str) -> list[dict]:
    """Execute ``code``; the iopub messages it caused, after checking it succeeded."""
    messages: list[dict] = []
    reply = kernel.execute_interactive(code, timeout=60, output_hook=messages.append)
    assert reply["content"]["status"] == "ok", reply["content"]
    return messages


def outputs(messages: list[dict], kind: str) -> list[dict]:
    return [m["content"] for m in messages if m["msg_type"] == kind]


def test_displaying_a_client_shows_the_live_widget_with_a_static_table(kernel):
    run(kernel, "%load_ext clustercraft")
    run(
        kernel,
        "from dask.distributed import Client\n"
        "client = Client(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=':0')",
    )
    messages = run(kernel, "client")
    (shown,) = outputs(messages, "display_data")
    assert WIDGET_VIEW in shown["data"]
    assert shown["data"]["text/html"].count("<tr>") == 3  # header + 2 workers
    opened = [m for m in outputs(messages, "comm_open") if m["data"]["state"].get("_model_name")]
    state = next(
        m["data"]["state"]
        for m in opened
        if m["data"]["state"]["_model_name"] == "ClusterInfoModel"
    )
    assert state["_model_module"] == "clustercraft" and state["summary"]["n_workers"] == 2
    # Shown twice, one updater: the same widget model.
    again = outputs(run(kernel, "client"), "display_data")[0]
    assert again["data"][WIDGET_VIEW]["model_id"] == shown["data"][WIDGET_VIEW]["model_id"]


def test_peakmem_shows_a_live_report_widget_then_the_final_report(kernel):
    messages = run(
        kernel, "%%peakmem\nimport time\nx = bytearray(40 * 2**20)\ntime.sleep(0.6)\ndel x"
    )
    (shown,) = outputs(messages, "display_data")
    assert WIDGET_VIEW in shown["data"]
    updates = outputs(messages, "update_display_data")
    assert "Peak memory" in updates[-1]["data"]["text/html"]
    assert not outputs(messages, "execute_result")  # the widget above already shows it
    live = [
        m["data"]["state"]["live"]
        for m in outputs(messages, "comm_msg")
        if "live" in m["data"].get("state", {})
    ]
    assert any(v.get("running") and v.get("peak", 0) > 0 for v in live), live
    assert live[-1] == {"running": False}
    run(kernel, "assert type(_).__name__ == 'PeakReport' and _.increment > 30 * 2**20")


def test_profile_partitions_shows_a_live_widget_then_the_report(kernel):
    messages = run(
        kernel,
        "import clustercraft, dask.dataframe as dd, pandas as pd\n"
        "frame = dd.from_pandas(pd.DataFrame({'x': range(1000)}), npartitions=3)\n"
        "clustercraft.profile_partitions(frame, len, n=2)",
    )
    (shown,) = outputs(messages, "display_data")
    assert WIDGET_VIEW in shown["data"]
    assert "Profiling partitions" in shown["data"]["text/plain"]
    updates = outputs(messages, "update_display_data")
    assert "Worker peak" in updates[-1]["data"]["text/html"]
    assert not outputs(messages, "execute_result")  # the widget above already shows it
    opened = [m["data"]["state"] for m in outputs(messages, "comm_open")]
    assert any(state.get("_view_name") == "ProfileReportView" for state in opened)
    live = [
        m["data"]["state"]["live"]
        for m in outputs(messages, "comm_msg")
        if "live" in m["data"].get("state", {})
    ]
    assert any(v.get("partition") == 2 and v.get("of") == 2 for v in live), live
    assert live[-1] == {"running": False}


def test_the_updater_stops_when_the_client_closes(kernel):
    run(
        kernel,
        "import threading, time\n"
        "client.close()\n"
        "deadline = time.monotonic() + 10\n"
        "while any(t.name == 'clustercraft-clusterinfo' for t in threading.enumerate()):\n"
        "    assert time.monotonic() < deadline, 'updater thread leaked'\n"
        "    time.sleep(0.05)",
    )
