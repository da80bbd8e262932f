"""The example notebooks run top to bottom in a real kernel (nbclient)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from dask.utils import parse_bytes
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HELPERS = ["make_catalog.py"]  # imported by the notebooks, so copied next to them

pytest.importorskip("light_curve", reason="the examples need light-curve (pip install light-curve)")


def run_notebook(name: str, workdir: Path) -> str:
    """Execute ``examples/<name>`` in ``workdir``; return all text output."""
    for file in [name, *HELPERS]:
        shutil.copy(EXAMPLES / file, workdir / file)
    notebook = nbformat.read(workdir / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(value) for value in output.get("data", {}).values())
    return "\n".join(texts)


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    # The kernel inherits this: the catalog goes to the test's own directory.
    monkeypatch.setenv("CLUSTERCRAFT_EXAMPLES_DATA", str(tmp_path / "lightcurves"))
    return tmp_path


RECOMMENDED = re.compile(
    r"Recommended cluster: (\d+) workers? x (\d+) threads?, memory_limit=([\d.]+ \w+)"
)


def client_code(cluster: dict) -> str:
    """What the report's Launch button inserts below it (src/code.ts's clientCode)."""
    if cluster["scheduler_address"].startswith("tls://"):
        return f"import clustercraft\nclient = clustercraft.connect({json.dumps(cluster['name'])})"
    return f"from dask.distributed import Client\nclient = Client({json.dumps(cluster['scheduler_address'])})"


def cell_text(cell) -> str:
    return "\n".join(
        [output.get("text", "") for output in cell.get("outputs", [])]
        + [
            str(value)
            for output in cell.get("outputs", [])
            for value in output.get("data", {}).values()
        ]
    )


@pytest.mark.timeout(300)
async def test_one_pixel_notebook_runs_on_the_cluster_its_button_launched(
    workdir, clusters, monkeypatch
):
    """Top to bottom, with "Launch recommended cluster" done as the report's button does it:
    POST the recommendation to the server, then insert the client cell below the report."""
    # The kernel finds the server's clusters (and their TLS credentials) as Jupyter's do.
    monkeypatch.setenv("CLUSTERCRAFT_RUNTIME_DIR", clusters.manager.runtime_dir)
    for file in ["one_pixel.ipynb", *HELPERS]:
        shutil.copy(EXAMPLES / file, workdir / file)
    notebook = nbformat.read(workdir / "one_pixel.ipynb", as_version=4)
    (report_at,) = [
        i for i, cell in enumerate(notebook.cells) if "profile_partitions(" in cell.source
    ]
    runner = NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    launched = None
    async with runner.async_setup_kernel():
        index = 0
        while index < len(notebook.cells):
            cell = notebook.cells[index]
            if cell.cell_type == "code":
                await runner.async_execute_cell(cell, index)
            if index == report_at:
                workers, threads, limit = RECOMMENDED.search(cell_text(cell)).groups()
                created = await clusters.create(
                    n_workers=int(workers),
                    threads_per_worker=int(threads),
                    memory_limit=parse_bytes(limit.replace(" ", "")),
                )
                launched = await clusters.wait_for(
                    created["id"],
                    lambda c, n=int(workers): c["status"] == "running" and c["n_workers"] == n,
                )
                inserted = nbformat.v4.new_code_cell(client_code(launched))
                notebook.cells.insert(index + 1, inserted)
            index += 1
    text = "\n".join(cell_text(cell) for cell in notebook.cells)
    assert "40 pixels" in text
    assert "Order: 4, Pixel:" in text  # labels from the HATS-like file layout
    assert "Profile of 3 of 40 partitions" in text
    assert "6,000 objects, period recovered within 2 %" in text
    assert "do NOT fit" not in text
    # The job ran on the launched cluster: its address is the client's.
    assert launched["scheduler_address"] in text
    await clusters.request("DELETE", launched["id"])


@pytest.mark.timeout(240)
def test_getting_started_notebook(workdir):
    text = run_notebook("getting_started.ipynb", workdir)
    assert "increment: 12" in text  # the 122 MiB block, measured exactly
    assert "fits the worker memory limit 1.00 GiB" in text
