"""profile_partitions with a real probe worker: ground-truth allocations, LSDB catalogs,
bad input, and no process left behind."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd
import psutil
import pytest

import clustercraft
from clustercraft.sizing.check import check_partitions
from clustercraft.sizing.report import ProfileReport
from clustercraft.tests.groundtruth import MiB, hold, tolerance

ROWS = [100, 700, 300, 1000, 50]  # one partition each, uneven
BYTES_PER_ROW = 2**17  # each row of a partition makes fn hold 128 KiB: 1,000 rows hold 125 MiB


def allocation(rows: int) -> int:
    return rows * BYTES_PER_ROW


def hold_per_row(part: pd.DataFrame) -> int:
    """Ground truth: a touched allocation of a known size, held 50 ms."""
    hold(allocation(len(part)), 0.05)
    return len(part)


def divide_by_zero(part: pd.DataFrame) -> float:
    return len(part) / 0


def frame() -> dd.DataFrame:
    parts = [pd.DataFrame({"x": np.arange(rows, dtype="float64")}) for rows in ROWS]
    return dd.from_map(lambda p: p, parts)  # one partition each, data in the graph


def probe_processes() -> set[int]:
    """This process's children, but multiprocessing's resource tracker (which stays, by design,
    once anything was spawned)."""
    return {
        child.pid
        for child in psutil.Process().children(recursive=True)
        if "resource_tracker" not in " ".join(child.cmdline())
    }


@pytest.fixture
def no_probe_left():
    before = probe_processes()
    yield
    assert probe_processes() <= before


def test_peaks_match_the_ground_truth(no_probe_left, capsys):
    started = time.perf_counter()
    report = clustercraft.profile_partitions(frame(), hold_per_row, n=3)
    elapsed = time.perf_counter() - started
    assert isinstance(report, ProfileReport) and report.method == "hwm"
    table = report.partitions
    assert table["rows"].tolist() == [1000, 700, 300]  # the largest by memory, largest first
    for i, row in table.iterrows():
        truth = allocation(row["rows"])
        # The worker's peak is its memory before fn plus what fn held. Before the first
        # partition, that is the worker's base at rest: loading it imported the readers.
        before = report.worker_base if i == 0 else row["start"]
        assert abs(row["peak"] - before - truth) <= tolerance(truth), row
        assert row["duration"] >= 0.05
    assert 40 * MiB < report.worker_base < 400 * MiB
    assert report.largest["label"] == table["label"].iloc[0] and report.largest["profiled"]
    assert report.largest["predicted_peak"] == table["peak"].iloc[0]
    # Sized so that the largest need sits at (at most) half the limit.
    recommendation = report.recommendation
    assert recommendation.need == table["peak"].iloc[0]
    assert recommendation.memory_limit >= 2 * recommendation.need
    assert "measured in a probe worker" in recommendation.rationale
    assert report.cost["runs"] == pytest.approx(table["duration"].sum())
    assert report.cost["probe_start"] > 0 and report.cost["total"] <= elapsed
    assert "partition 3 of 3" in capsys.readouterr().err  # progress, outside a notebook


def test_model_predicts_partitions_not_profiled(no_probe_left):
    report = clustercraft.profile_partitions(frame(), hold_per_row, n=2, progress=False)
    model = report.model
    assert model.column == "memory" and model.base == report.worker_base
    check = check_partitions(frame(), report, warn=False)
    predicted = dict(zip(check.sizes["rows"], check.sizes["predicted_peak"], strict=True))
    profiled = dict(zip(report.partitions["rows"], report.partitions["peak"], strict=True))
    assert predicted[1000] == profiled[1000] and predicted[700] == profiled[700]  # measured
    for rows in (300, 100, 50):  # predicted: between the base and the measured ones
        assert report.worker_base <= predicted[rows] <= profiled[700]
    assert check.fits and "profile_partitions" in check.message


def test_a_tight_limit_names_the_partitions_that_do_not_fit(no_probe_left):
    report = clustercraft.profile_partitions(frame(), hold_per_row, n=5, progress=False)
    peaks = dict(zip(report.partitions["label"], report.partitions["peak"], strict=True))
    limit = int(peaks[1] / 0.8) - 10 * MiB  # the 700-row partition (label 1) is 8 MiB over
    with pytest.warns(UserWarning, match="do NOT fit"):
        check = check_partitions(frame(), report, memory_limit=limit)
    assert set(check.too_large["label"]) == {1, 3}  # 700 and 1,000 rows
    assert "1 by 8.00 MiB" in check.message


def test_options_shape_the_recommendation(no_probe_left, tmp_path, monkeypatch):
    from clustercraft.runtime import PROFILES_FILE, RUNTIME_ENV
    from clustercraft.tests.test_profiles import SHOWN

    (tmp_path / PROFILES_FILE).write_text(json.dumps([SHOWN["local"], SHOWN["slurm"]]))
    monkeypatch.setenv(RUNTIME_ENV, str(tmp_path))  # the server's profiles, as it lists them
    report = clustercraft.profile_partitions(
        frame(),
        hold_per_row,
        n=1,
        factor=3,
        workers=7,
        memory_available="64GiB",
        cores=8,
        profile="slurm",
        progress=False,
    )
    recommendation = report.recommendation
    assert (recommendation.factor, recommendation.n_workers, recommendation.profile) == (
        3,
        7,
        "slurm",
    )
    data = json.loads(json.dumps(report.to_dict()))  # JSON-ready, for the widget
    assert data["partitions"][0]["rows"] == 1000
    assert data["recommendation"]["profile"] == "slurm"
    assert "Worker peak" in repr(report) and "<svg" in report._repr_html_()


@pytest.mark.parametrize(
    ("obj", "fn", "n", "error", "message"),
    [
        (pd.DataFrame({"x": [1]}), hold_per_row, 3, TypeError, "obj must be a Dask DataFrame"),
        ("frame", 3, 3, TypeError, "fn must be a callable"),
        ("frame", hold_per_row, 0, ValueError, "n must be a positive integer"),
        ("frame", hold_per_row, -2, ValueError, "n must be a positive integer"),
        ("frame", hold_per_row, None, ValueError, "n must be a positive integer"),
        ("frame", hold_per_row, 1, ValueError, "factor must be a finite number of at least 1"),
        ("frame", hold_per_row, 1, ValueError, "workers must be a whole number"),
        ("frame", hold_per_row, 1, ValueError, "memory_available must be a finite byte count"),
        ("frame", hold_per_row, 1, ValueError, "no cluster profile 'nope'"),
    ],
)
def test_bad_input_is_refused_before_any_probe(obj, fn, n, error, message, no_probe_left):
    option = message.split()[0]
    options = {
        "factor": {"factor": float("nan")},
        "workers": {"workers": 2.5},
        "memory_available": {"memory_available": "1e400"},
        "no": {"profile": "nope"},
    }.get(option, {})
    with pytest.raises(error, match=message):
        clustercraft.profile_partitions(
            frame() if isinstance(obj, str) else obj, fn, n=n, **options
        )


def test_fn_raising_names_the_partition_and_leaves_no_probe(no_probe_left):
    with pytest.raises(ZeroDivisionError) as raised:
        clustercraft.profile_partitions(frame(), divide_by_zero, progress=False)
    assert any("loading partition 3 and running fn" in note for note in raised.value.__notes__)


# ----------------------------------------------------------------------------- LSDB


@pytest.fixture(scope="module")
def nested_catalog(tmp_path_factory) -> Path:
    pytest.importorskip("lsdb", reason="LSDB catalogs need lsdb (pip install lsdb)")
    from clustercraft.tests.catalogs import Field, write_catalog

    # The deep field's data (3 M observations) dwarfs how a worker's own memory varies.
    fields = [Field(100, 6_000, 20), Field(300, 3_000, 1_000), Field(500, 800, 60)]
    return write_catalog(tmp_path_factory.mktemp("profile") / "skewed", fields)


def mean_magnitudes(part):
    """Per object: a nested-pandas reduction, as LSDB analyses do."""
    return part.map_rows(
        lambda mag: {"mean": np.mean(mag)}, columns=["lc.mag"], row_container="args"
    )


def test_nested_catalog_by_path_and_catalog(nested_catalog, no_probe_left):
    import lsdb

    by_path = clustercraft.profile_partitions(nested_catalog, mean_magnitudes, n=2, progress=False)
    table = by_path.partitions
    assert table["label"].tolist() == ["Order: 3, Pixel: 300", "Order: 3, Pixel: 100"]
    assert table["nested_rows"].iloc[0] > 3 * table["nested_rows"].iloc[1]
    assert (table["rows"] == [3_000, 6_000]).all()
    # the estimate is close to what the worker measured once the partition was loaded
    assert np.allclose(table["memory"], table["loaded"], rtol=0.1)
    assert "Nested rows" in repr(by_path)
    catalog = lsdb.open_catalog(nested_catalog)
    report = clustercraft.profile_partitions(catalog, mean_magnitudes, n=1, progress=False)
    assert report.largest["label"] == "Order: 3, Pixel: 300" and report.largest["profiled"]
    assert report.recommendation.need == report.partitions["peak"].iloc[0]
