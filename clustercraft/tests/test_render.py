"""The kernel's static HTML comes from Jinja templates in the package, autoescaped: text that
looks like markup (a worker's name, a warning, a partition label) is shown, never run."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from clustercraft.kernel.widgets import worker_table_html
from clustercraft.sizing.check import PeakModel, check_partitions
from clustercraft.sizing.partitions import PartitionTable
from clustercraft.sizing.recommend import recommend
from clustercraft.sizing.render import environment, render
from clustercraft.sizing.report import PeakReport

EVIL = "<img src=x onerror=alert(1)>'\""
MiB = 2**20


def test_every_template_is_in_the_package_and_compiles() -> None:
    shipped = {
        entry.name
        for entry in resources.files("clustercraft.sizing").joinpath("templates").iterdir()
    }
    assert {"peak_report.html.j2", "profile_report.html.j2", "worker_table.html.j2"} <= shipped
    env = environment()
    assert env.autoescape is True
    assert sorted(env.list_templates()) == sorted(shipped)
    for name in shipped:
        env.get_template(name)


def test_one_environment_with_the_filters() -> None:
    assert environment() is environment()
    assert {"format_bytes", "format_time", "signed_bytes", "seconds"} <= set(environment().filters)
    assert render("live_report.html.j2", text=EVIL) == (
        "<p>&lt;img src=x onerror=alert(1)&gt;&#39;&#34;</p>"
    )


def peak_report() -> PeakReport:
    recommendation = recommend(64 * MiB, worker_base=100 * MiB, memory_available="8GiB", cores=2)
    recommendation.rationale += "\n" + EVIL
    return PeakReport(
        peak=200 * MiB,
        baseline=100 * MiB,
        increment=100 * MiB,
        retained=0,
        duration=1.0,
        method="hwm",
        timeline=[(0.0, 100 * MiB), (0.5, 200 * MiB), (1.0, 100 * MiB)],
        children_peak=0,
        recommendation=recommendation,
        warnings=[EVIL],
        error=EVIL,
        inputs=[{"name": EVIL, "kind": "DataFrame", "nbytes": MiB}],
    )


def test_the_peak_report_escapes_what_it_shows() -> None:
    page = peak_report()._repr_html_()
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<svg") == 1 and "<polyline points='0.0," in page
    assert "<strong>Recommended cluster:</strong> 2 workers x 1 thread," in page


def test_the_worker_table_escapes_worker_names() -> None:
    row = {
        "name": EVIL,
        "nthreads": 1,
        "memory": MiB,
        "memory_peak": 0,
        "memory_limit": 0,
        "cpu": 0.0,
        "status": "running",
        "address": "tcp://127.0.0.1:1",
    }
    page = worker_table_html({"scheduler_address": "tcp://127.0.0.1:0", "n_workers": 1}, [row])
    assert "<img" not in page and "<td>&lt;img src=x" in page
    assert page.count("<tr>") == 2 and "<th>Worker</th>" in page


def test_partition_tables_keep_pandas_markup_and_escape_labels() -> None:
    table = PartitionTable({"label": [EVIL], "partition": [0], "rows": [10], "bytes": [100]})
    table.attrs["meaning"] = {"rows": EVIL}
    page = table._repr_html_()
    assert "<table" in page and "<img" not in page  # pandas escapes the cells, we the legend
    assert "<p><small>rows: &lt;img" in page
    sizes = pd.DataFrame(
        {"label": [EVIL], "partition": [0], "rows": [10], "bytes": [100], "memory": [100]}
    )
    model = PeakModel("memory", 0.0, 1.0, EVIL)
    check = check_partitions(sizes, model_report(model), memory_limit=1000, warn=False)
    page = check._repr_html_()
    assert "data-verdict='fits'" in page and "<table" in page and "<img" not in page


def model_report(model: PeakModel):
    class Profiled:  # the part of a profile_partitions report check_partitions uses
        def __init__(self) -> None:
            self.model = model

    return Profiled()
