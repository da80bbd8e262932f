"""%%peakmem and %peakmem in a real IPython shell and in a real Jupyter kernel."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client.manager import start_new_kernel

from clustercraft.sizing.report import PeakReport
from clustercraft.tests.kernels import shutdown_kernel

MiB = 2**20


@pytest.fixture(scope="module")
def shell():
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext clustercraft")
    shell.run_cell("import numpy as np")
    yield shell
    shell.user_ns.pop("_peakmem", None)


def run(shell: InteractiveShell, cell: str):
    return shell.run_cell(cell, store_history=True)


def test_cell_magic_returns_the_report(shell) -> None:
    result = run(shell, "%%peakmem --workers 3 --no-gc\na = np.ones(64 * 2**20 // 8)\ndel a\n6 * 7")
    report = result.result
    assert isinstance(report, PeakReport)
    assert abs(report.increment - 64 * MiB) <= 2 * MiB, report
    assert report.result == 42  # the cell's last expression
    assert report.recommendation.n_workers == 3
    assert run(shell, "report = _").success and shell.user_ns["report"] is report


def test_line_magic_measures_a_statement(shell) -> None:
    report = run(shell, "%peakmem np.ones(32 * 2**20 // 8).sum()").result
    assert abs(report.increment - 32 * MiB) <= 2 * MiB
    assert report.result == 32 * MiB // 8


def test_options_reach_the_recommendation(shell) -> None:
    cell = "%%peakmem --factor 3 --memory-available 64GiB --cores 5\nb = np.ones(2**20)"
    recommendation = run(shell, cell).result.recommendation
    assert recommendation.factor == 3
    assert recommendation.n_workers == 5


def test_quiet_shows_nothing_and_keeps_the_report(shell, capsys) -> None:
    capsys.readouterr()
    result = run(shell, "%%peakmem --quiet\nc = np.ones(2**20)")
    assert result.result is None
    assert "Peak memory" not in capsys.readouterr().out
    assert isinstance(shell.user_ns["_peakmem"], PeakReport)


def test_exception_shows_the_report_and_propagates(shell, capsys) -> None:
    capsys.readouterr()
    result = run(shell, "%%peakmem\nd = np.ones(16 * 2**20 // 8)\n1 / 0")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    out = capsys.readouterr().out
    assert "stopped by ZeroDivisionError" in out
    assert "ZeroDivisionError" in out.split("stopped by ZeroDivisionError", 1)[1]  # traceback
    report = shell.user_ns["_peakmem"]
    assert report.error == "ZeroDivisionError"
    assert abs(report.increment - 16 * MiB) <= 2 * MiB


def test_interrupt_shows_the_report_and_propagates(shell, capsys) -> None:
    capsys.readouterr()
    result = run(shell, "%%peakmem\nraise KeyboardInterrupt")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert "stopped by KeyboardInterrupt" in capsys.readouterr().out
    assert run(shell, "%peakmem 1").success  # nothing left locked


def test_nesting_and_bad_options_are_clear_errors(shell) -> None:
    nested = run(shell, "%%peakmem\n%peakmem 1")
    assert "nested" in str(nested.error_in_exec)
    bad = run(shell, "%peakmem --memory-available lots 1")
    assert "lots" in str(bad.error_in_exec)
    empty = run(shell, "%peakmem")
    assert "needs a statement" in str(empty.error_in_exec)
    assert not any(t.name == "clustercraft-peakmem" for t in threading.enumerate())


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ("--factor nan", "--factor"),
        ("--factor inf", "--factor"),
        ("--factor 0.5", "--factor"),
        ("--memory-available 1e400", "--memory-available"),
        ("--memory-available 0", "--memory-available"),
        ("--workers 2.5", "--workers"),
        ("--cores 0", "--cores"),
        ("--worker-base -1", "--worker-base"),
        ("--worker-base nanGB", "--worker-base"),
        ("--profile nope", "--profile"),
        ("--bogus", "--bogus"),
    ],
)
def test_bad_options_are_usage_errors_before_the_cell_runs(shell, options, named) -> None:
    shell.user_ns.pop("ran", None)
    for source in (f"%%peakmem {options}\nran = True", f"%peakmem {options} ran = True"):
        result = run(shell, source)
        error = result.error_before_exec or result.error_in_exec
        assert isinstance(error, UsageError), (source, error)
        assert named in str(error), (source, error)
        assert "ran" not in shell.user_ns, source
    assert not any(t.name == "clustercraft-peakmem" for t in threading.enumerate())


def test_a_statement_that_looks_like_an_option_still_runs(shell) -> None:
    run(shell, "x = 3")
    assert run(shell, "%peakmem --worker-base 1MiB -x + 1").result.result == -2
    unknown = run(shell, "%peakmem -z f(x)")
    assert "unknown option -z" in str(unknown.error_in_exec)


def test_tracebacks_point_into_the_cell(shell, capsys) -> None:
    capsys.readouterr()
    run(shell, "%%peakmem\nx = 1\nundefined_name")
    out = capsys.readouterr().out
    assert "undefined_name" in out and "NameError" in out


# ---------------------------------------------------------------- a real Jupyter kernel


@pytest.fixture(scope="module")
def kernel_manager():
    manager, client = start_new_kernel(kernel_name="python3")
    yield manager, client
    shutdown_kernel(manager, client)


@pytest.fixture
def kernel(kernel_manager):
    return kernel_manager[1]


SHOWN = ("execute_result", "display_data", "update_display_data")


def execute(client, code: str) -> tuple[dict, list[dict]]:
    outputs: list[dict] = []

    def keep(msg: dict) -> None:
        if msg["msg_type"] in (*SHOWN, "error", "stream"):
            outputs.append(msg)

    reply = client.execute_interactive(code, timeout=60, output_hook=keep)
    return reply["content"], outputs


def last_shown(outputs: list[dict]) -> dict:
    """The final state of what the cell displayed (a live widget is updated in place)."""
    return [m for m in outputs if m["msg_type"] in SHOWN][-1]["content"]["data"]


def test_magic_in_a_real_kernel(kernel) -> None:
    assert execute(kernel, "%load_ext clustercraft")[0]["status"] == "ok"
    reply, outputs = execute(kernel, "%%peakmem\nimport numpy as np\na = np.ones(2**25)\ndel a")
    assert reply["status"] == "ok", reply
    assert "<svg" in last_shown(outputs)["text/html"]  # the chart in the static fallback
    reply, outputs = execute(kernel, "import json; report = _; print(json.dumps(report.to_dict()))")
    data = json.loads(next(m for m in outputs if m["msg_type"] == "stream")["content"]["text"])
    assert data["method"] == "hwm"
    assert abs(data["increment"] - 256 * MiB) <= 16 * MiB  # the cell also imported numpy
    assert data["recommendation"]["threads_per_worker"] == 1
    assert data["peak"] == data["baseline"] + data["increment"]


def test_exception_in_a_real_kernel(kernel) -> None:
    execute(kernel, "%load_ext clustercraft")
    reply, outputs = execute(kernel, "%%peakmem\nraise ValueError('boom')")
    assert reply["status"] == "error" and reply["ename"] == "ValueError"
    kinds = [m["msg_type"] for m in outputs]
    shown_at = max(i for i, kind in enumerate(kinds) if kind in SHOWN)
    assert shown_at < kinds.index("error")  # the report first, then the traceback
    assert "Stopped by ValueError" in last_shown(outputs)["text/html"]


def test_interrupt_in_a_real_kernel(kernel_manager) -> None:
    manager, client = kernel_manager
    execute(client, "%load_ext clustercraft")
    msg_id = client.execute("%%peakmem\nimport time\nx = bytearray(64 * 2**20)\ntime.sleep(30)")
    outputs = []
    while True:
        msg = client.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "busy":
            time.sleep(0.5)
            manager.interrupt_kernel()
        outputs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    kinds = [m["msg_type"] for m in outputs]
    assert "error" in kinds, kinds
    assert "stopped by KeyboardInterrupt" in last_shown(outputs)["text/plain"]
    reply, outputs = execute(client, "print(_peakmem.error, _peakmem.duration < 10)")
    assert outputs[-1]["content"]["text"].split() == ["KeyboardInterrupt", "True"]
    assert execute(client, "%peakmem 1")[0]["status"] == "ok"  # nothing left locked


# ---------------------------------------------------------------- inputs loaded before the cell


def test_input_loaded_before_the_cell_is_added_to_the_need(shell) -> None:
    run(shell, "import pandas as pd\npixel = pd.DataFrame(np.ones((2**20, 8)))")  # 64 MiB
    pixel_bytes = int(shell.user_ns["pixel"].memory_usage(deep=True).sum())
    report = run(shell, "%%peakmem\ndoubled = pixel * 2").result
    assert abs(report.increment - 64 * MiB) <= 2 * MiB, report
    assert report.inputs == [
        {
            "name": "pixel",
            "kind": "DataFrame",
            "nbytes": pixel_bytes,
            "rows": 2**20,
            "nested_rows": 0,
            "load_peak": None,  # not read by load_partition: reading it was not measured
            "load_retained": None,
        }
    ]
    recommendation = report.recommendation
    assert recommendation.need == report.increment + pixel_bytes + report.worker_base
    assert "inputs loaded before the cell (pixel (DataFrame))" in recommendation.rationale
    assert "Inputs" in repr(report) and "pixel (DataFrame)" in repr(report)
    assert not any("before the cell, more than" in w for w in report.warnings)
    assert any("reading pixel costs was not measured" in w for w in report.warnings)


def test_a_partition_read_by_load_partition_counts_what_reading_it_cost(shell, tmp_path) -> None:
    frame = pd.DataFrame({"x": np.arange(2**22, dtype="float64"), "y": 1.0})  # 64 MiB
    frame.to_parquet(tmp_path / "part.0.parquet")
    path = str(tmp_path)
    run(shell, f"import clustercraft, dask.dataframe as dd\nddf = dd.read_parquet({path!r})")
    run(shell, "part = clustercraft.load_partition(ddf, 0)")
    load = shell.user_ns["part"].attrs["clustercraft_load"]
    assert load["peak"] >= load["retained"] >= 60 * MiB  # at least the frame itself
    report = run(shell, "%%peakmem\ntotal = part['x'].sum()").result
    (item,) = report.inputs
    assert (item["load_peak"], item["load_retained"]) == (load["peak"], load["retained"])
    assert report.recommendation.need == report.worker_base + max(
        max(report.increment, 0) + max(item["nbytes"], load["retained"]),
        max(item["nbytes"], load["peak"]),
    )
    assert "as load_partition read them (measured)" in report.recommendation.rationale
    assert not any("was not measured" in w for w in report.warnings)
    run(shell, "del part, ddf")


def test_inputs_reached_through_a_function_count_too(shell) -> None:
    run(shell, "def work():\n    return (pixel * 2).sum().sum()")
    report = run(shell, "%%peakmem\nwork()").result
    assert [item["name"] for item in report.inputs] == ["pixel"]
    assert report.recommendation.need > report.inputs[0]["nbytes"] + report.worker_base
    # A fat test process would show in the peaks of children it starts later (exec keeps
    # the parent's RSS as the child's maxrss).
    run(shell, "del pixel, doubled, work")


def test_the_worker_base_is_measured_in_a_probe_worker(shell) -> None:
    report = run(shell, "%%peakmem\nc = np.ones(2**20)").result
    assert 40 * MiB < report.worker_base < 400 * MiB, report.worker_base
    assert "measured in a probe worker with dask.dataframe, numpy, pandas, pyarrow" in (
        report.recommendation.rationale
    )
    given = run(shell, "%%peakmem --worker-base 1GiB\nc = np.ones(2**20)").result
    assert given.worker_base == 2**30 and "(as given)" in given.recommendation.rationale


def test_data_it_cannot_measure_gives_no_recommendation(shell) -> None:
    cell = (
        "class Holder:\n    __slots__ = ('block',)\n\n"
        "holder = Holder()\nholder.block = np.ones(512 * 2**20 // 8)"
    )
    run(shell, cell)
    report = run(shell, "%%peakmem\ntotal = holder.block.sum()").result
    assert report.recommendation is None
    (warning,) = [w for w in report.warnings if w.startswith("No recommendation")]
    assert "holder (Holder)" in warning and "profile_partitions" in warning
    run(shell, "del holder")
