"""%%peakmem and %peakmem in a real IPython shell and in a real Jupyter kernel."""

from __future__ import annotations

import json
import threading

import pytest
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client.manager import start_new_kernel

from clustercraft.kernel.report import PeakReport

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


def test_tracebacks_point_into_the_cell(shell, capsys) -> None:
    capsys.readouterr()
    run(shell, "%%peakmem\nx = 1\nundefined_name")
    out = capsys.readouterr().out
    assert "undefined_name" in out and "NameError" in out


# ---------------------------------------------------------------- a real Jupyter kernel


@pytest.fixture(scope="module")
def kernel():
    manager, client = start_new_kernel(kernel_name="python3")
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def execute(client, code: str) -> tuple[dict, list[dict]]:
    outputs: list[dict] = []

    def keep(msg: dict) -> None:
        if msg["msg_type"] in ("execute_result", "display_data", "error", "stream"):
            outputs.append(msg)

    reply = client.execute_interactive(code, timeout=60, output_hook=keep)
    return reply["content"], outputs


def test_magic_in_a_real_kernel(kernel) -> None:
    assert execute(kernel, "%load_ext clustercraft")[0]["status"] == "ok"
    reply, outputs = execute(kernel, "%%peakmem\nimport numpy as np\na = np.ones(2**25)\ndel a")
    assert reply["status"] == "ok", reply
    result = next(m for m in outputs if m["msg_type"] == "execute_result")
    assert (
        "text/html" in result["content"]["data"]
        and "<svg" in result["content"]["data"]["text/html"]
    )
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
    assert kinds.index("display_data") < kinds.index("error")  # report first, then traceback
    shown = next(m for m in outputs if m["msg_type"] == "display_data")["content"]["data"]
    assert "Stopped by ValueError" in shown["text/html"]
