"""The example notebooks run top to bottom in a real kernel (nbclient)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
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


@pytest.mark.timeout(240)
def test_one_pixel_notebook(workdir):
    text = run_notebook("one_pixel.ipynb", workdir)
    assert "40 pixels" in text
    assert "Order: 4, Pixel:" in text  # labels from the HATS-like file layout
    assert "6,000 objects, period recovered within 2 %" in text
    assert "does NOT fit" not in text


@pytest.mark.timeout(240)
def test_getting_started_notebook(workdir):
    text = run_notebook("getting_started.ipynb", workdir)
    assert "increment: 12" in text  # the 122 MiB block, measured exactly
    assert "fits the worker memory limit 1.00 GiB" in text
