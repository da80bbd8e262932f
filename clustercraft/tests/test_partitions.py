"""Partition helpers against brute-force counts on generated Parquet and HATS data."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from clustercraft.sizing.check import PartitionSizeWarning, check_partitions
from clustercraft.sizing.partitions import largest_partitions, load_partition, partition_sizes
from clustercraft.sizing.recommend import WORKER_BASE_RSS

ROWS_PER_FILE = [120, 900, 40, 310, 5, 660, 75, 220]  # uneven on purpose
MiB, GiB = 2**20, 2**30


def _forbid_compute(*args, **kwargs):
    raise AssertionError("a metadata path computed a Dask graph (read partition data)")


def no_compute():
    """Any Dask compute inside this block fails the test."""
    return dask.config.set(scheduler=_forbid_compute)


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "flux": rng.normal(size=rows),
            "band": rng.choice(["g", "r", "i"], size=rows),
        }
    )


def brute_force_rows(ddf) -> list[int]:
    return [len(ddf.partitions[i].compute()) for i in range(ddf.npartitions)]


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("parquet")
    for i, rows in enumerate(ROWS_PER_FILE):
        _frame(rows, i).to_parquet(root / f"part.{i}.parquet", row_group_size=100)
    return root


@pytest.fixture(scope="module")
def hats_like_dir(tmp_path_factory) -> Path:
    """Parquet files laid out like a HATS catalog's pixels (no HATS metadata files)."""
    root = tmp_path_factory.mktemp("hatslike") / "dataset"
    for pixel, rows in [(11, 30), (12, 300), (40, 80)]:
        directory = root / "Norder=3" / "Dir=0"
        directory.mkdir(parents=True, exist_ok=True)
        _frame(rows, pixel).to_parquet(directory / f"Npix={pixel}.parquet")
    return root


# ----------------------------------------------------------------------------- Parquet


@pytest.mark.parametrize(
    "options",
    [{}, {"split_row_groups": True}, {"split_row_groups": 3}, {"filesystem": "arrow"}],
    ids=["files", "row-groups", "3-row-groups", "arrow-fs"],
)
def test_parquet_footers_agree_with_brute_force(parquet_dir, options):
    ddf = dd.read_parquet(str(parquet_dir.resolve()), **options)
    with no_compute():
        sizes = partition_sizes(ddf)
    assert sizes.attrs["method"] == "parquet-metadata"
    assert sizes["partition"].tolist() == list(range(ddf.npartitions))
    assert sizes["rows"].tolist() == brute_force_rows(ddf)
    assert (sizes["bytes"] > 0).all()


def test_largest_first_and_head(parquet_dir):
    ddf = dd.read_parquet(parquet_dir)
    with no_compute():
        top = largest_partitions(ddf, n=3)
        by_bytes = largest_partitions(ddf, n=None, by="bytes")
    assert list(top.columns) == ["label", "partition", "rows", "bytes", "memory"]
    assert top.attrs["ranked_by"] == "memory"
    assert top["rows"].tolist() == sorted(ROWS_PER_FILE, reverse=True)[:3]
    assert top["label"].tolist() == [1, 5, 3]  # the partition index when files have no pixel
    assert by_bytes["bytes"].is_monotonic_decreasing
    assert len(by_bytes) == len(ROWS_PER_FILE)
    assert top.attrs["method"] == "parquet-metadata"


def test_column_selection_counts_only_loaded_columns(parquet_dir):
    ddf = dd.read_parquet(parquet_dir)
    with no_compute():
        everything = partition_sizes(ddf)
        one_column = partition_sizes(ddf[["flux"]])
        series = partition_sizes(ddf["flux"])
    assert one_column["rows"].tolist() == everything["rows"].tolist()
    assert (one_column["bytes"] < everything["bytes"]).all()
    assert series["bytes"].tolist() == one_column["bytes"].tolist()


def test_partition_selection_keeps_its_own_numbering(parquet_dir):
    ddf = dd.read_parquet(parquet_dir).partitions[[1, 4, 6]]
    with no_compute():
        sizes = partition_sizes(ddf)
    assert sizes["rows"].tolist() == [ROWS_PER_FILE[1], ROWS_PER_FILE[4], ROWS_PER_FILE[6]]


def test_row_filters_fall_back_to_counting(parquet_dir):
    ddf = dd.read_parquet(parquet_dir, filters=[("id", ">=", 50)])
    ddf = ddf[ddf["flux"] > 0]
    sizes = partition_sizes(ddf, progress=False)
    assert sizes.attrs["method"] == "counted"
    assert sizes["rows"].tolist() == brute_force_rows(ddf)
    assert "memory_usage" in sizes.attrs["bytes_meaning"]


def test_counting_without_parquet_matches_and_shows_progress(capsys):
    pdf = pd.concat([_frame(rows, i) for i, rows in enumerate(ROWS_PER_FILE)])
    ddf = dd.from_pandas(pdf, npartitions=5, sort=False)
    import clustercraft.sizing.partitions as partitions

    original, partitions.PROGRESS_AFTER = partitions.PROGRESS_AFTER, 0
    try:
        top = largest_partitions(ddf, n=2, by="bytes")
    finally:
        partitions.PROGRESS_AFTER = original
    assert "100% Completed" in capsys.readouterr().out
    in_memory = [ddf.partitions[i].compute() for i in range(ddf.npartitions)]
    counted = sorted((int(p.memory_usage(deep=True).sum()), len(p)) for p in in_memory)
    assert list(zip(top["bytes"], top["rows"], strict=True)) == counted[::-1][:2]
    assert top.attrs["method"] == "counted"


def test_path_argument_reads_parquet(parquet_dir):
    with no_compute():
        top = largest_partitions(str(parquet_dir), n=1)
    assert top["rows"].tolist() == [max(ROWS_PER_FILE)]


def test_hats_layout_gets_pixel_labels_and_loads_by_label(hats_like_dir):
    ddf = dd.read_parquet(hats_like_dir)
    with no_compute():
        top = largest_partitions(ddf, n=2)
    assert top["label"].tolist() == ["Order: 3, Pixel: 12", "Order: 3, Pixel: 40"]
    assert top["rows"].tolist() == [300, 80]
    assert len(load_partition(ddf, "Order: 3, Pixel: 12")) == 300
    assert len(load_partition(ddf, (3, 40))) == 80
    assert len(load_partition(ddf, top.iloc[1])) == 80
    assert len(load_partition(ddf, 0)) == 30


def test_load_partition_by_index(parquet_dir):
    ddf = dd.read_parquet(parquet_dir)
    part = load_partition(ddf, "3")
    assert isinstance(part, pd.DataFrame)
    assert len(part) == ROWS_PER_FILE[3]


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("obj", [pd.DataFrame({"a": [1]}), [1, 2], 3.0])
def test_not_a_dask_object_is_refused(obj):
    with pytest.raises(TypeError, match="obj must be a Dask DataFrame"):
        largest_partitions(obj)
    with pytest.raises(TypeError, match="obj must be"):
        load_partition(obj, 0)


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "3"])
def test_bad_n_is_refused(parquet_dir, n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        largest_partitions(dd.read_parquet(parquet_dir), n=n)


def test_bad_by_is_refused(parquet_dir):
    with pytest.raises(ValueError, match="by must be one of"):
        largest_partitions(dd.read_parquet(parquet_dir), by="columns")


@pytest.mark.parametrize(
    ("label", "message"),
    [(99, "out of range"), ("Order: 3, Pixel: 999", "not a partition"), ([1], "label must be")],
)
def test_bad_labels_are_refused(hats_like_dir, label, message):
    with pytest.raises(ValueError, match=message):
        load_partition(dd.read_parquet(hats_like_dir), label)


def test_hats_path_without_lsdb_says_how_to_install(tmp_path, monkeypatch):
    (tmp_path / "hats.properties").write_text("obs_collection=test\n")
    monkeypatch.setitem(sys.modules, "lsdb", None)  # import lsdb now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'clustercraft\[lsdb\]'"):
        largest_partitions(tmp_path)


# ----------------------------------------------------------------------------- partition check


def test_check_without_a_measurement_guesses_from_memory(parquet_dir):
    ddf = dd.read_parquet(parquet_dir)
    sizes = partition_sizes(ddf)
    largest = int(sizes["memory"].max())
    guess = WORKER_BASE_RSS + 2 * largest  # memory x factor 2 + a worker's usual base

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        roomy = check_partitions(ddf, memory_limit=guess / 0.8 + 1)
    assert roomy.fits and roomy.too_large.empty
    assert roomy.needed == guess
    assert "nothing measured" in roomy.message and "profile_partitions" in roomy.message

    with pytest.warns(PartitionSizeWarning, match="do NOT fit"):
        tight = check_partitions(sizes, WORKER_BASE_RSS + largest, factor=1.5)
    assert not tight.fits
    over = tight.too_large
    assert (over["over"] > 0).all()
    assert (over["predicted_peak"] - over["over"] <= 0.8 * (WORKER_BASE_RSS + largest) + 1).all()
    assert f"{over['label'].iloc[0]} by " in tight.message  # named, and by how much
    assert list(tight.distribution.index) == ["min", "median", "90%", "max"]
    assert "data-verdict='does not fit'" in tight._repr_html_()


def peakmem_report(increment, inputs=(), limit=GiB, threads=1, base=100 * MiB):
    return SimpleNamespace(
        increment=increment,
        inputs=list(inputs),
        worker_base=base,
        recommendation=SimpleNamespace(memory_limit=limit, threads_per_worker=threads),
    )


def test_check_scales_a_peakmem_report_by_rows(parquet_dir):
    sizes = partition_sizes(dd.read_parquet(parquet_dir))
    pixel = {"name": "pixel", "kind": "DataFrame", "nbytes": 20 * MiB, "rows": 100}
    report = peakmem_report(10 * MiB, [pixel])  # 30 MiB on 100 rows
    check = check_partitions(sizes, report, warn=False)
    predicted = dict(zip(check.sizes["rows"], check.sizes["predicted_peak"], strict=True))
    for rows in ROWS_PER_FILE:
        assert predicted[rows] == 100 * MiB + rows * 30 * MiB // 100
    assert check.sizes["rows"].iloc[0] == max(ROWS_PER_FILE)
    assert "307.20 kiB a row" in check.message
    # 900 rows need 100 MiB + 270 MiB = 370 MiB; 80 % of 400 MiB is 320 MiB: 50 MiB over.
    with pytest.warns(PartitionSizeWarning, match=r"do NOT fit.*by 50\.00 MiB"):
        tight = check_partitions(sizes, report, memory_limit=400 * MiB)
    assert tight.too_large["rows"].tolist() == [900]


def test_check_counts_what_reading_the_input_cost(parquet_dir):
    sizes = partition_sizes(dd.read_parquet(parquet_dir))
    pixel = {"name": "pixel", "kind": "DataFrame", "nbytes": 20 * MiB, "rows": 100}
    read = pixel | {"load_peak": 80 * MiB, "load_retained": 50 * MiB}
    check = check_partitions(sizes, peakmem_report(10 * MiB, [read]), warn=False)
    # reading it peaked at 80 MiB, more than holding it as read (50) plus the cell (10)
    assert check.model.per_unit == 80 * MiB / 100
    held = check_partitions(sizes, peakmem_report(40 * MiB, [read]), warn=False)
    assert held.model.per_unit == 90 * MiB / 100  # 50 MiB as read + the cell's 40


def test_check_of_a_cell_that_loaded_its_own_data_scales_from_the_largest(parquet_dir):
    sizes = partition_sizes(dd.read_parquet(parquet_dir))
    check = check_partitions(sizes, peakmem_report(200 * MiB), warn=False)
    assert check.needed == 300 * MiB  # the largest partition is the one measured
    assert "taken to be the largest partition" in check.message


def test_check_counts_every_thread_and_a_recommendation_as_dict(parquet_dir):
    sizes = partition_sizes(dd.read_parquet(parquet_dir))
    report = peakmem_report(200 * MiB, limit=768 * MiB, threads=3)
    with pytest.warns(PartitionSizeWarning):  # 100 MiB + 3 x 200 MiB > 80 % of 768 MiB
        check = check_partitions(sizes, report)
    assert check.threads_per_worker == 3 and check.needed == 700 * MiB
    assert check.source == "recommendation"
    as_dict = check_partitions(sizes, {"memory_limit": "2GiB"}, warn=False)
    assert as_dict.memory_limit == 2 * GiB and as_dict.threads_per_worker == 1


def test_check_reads_the_limit_from_a_running_client(parquet_dir):
    from distributed import Client, LocalCluster

    ddf = dd.read_parquet(parquet_dir)
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=False,
            memory_limit="1GiB",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        check = check_partitions(ddf, client=client)
        assert check.memory_limit == 2**30
        assert check.threads_per_worker == 2
        assert check.fits
        # the counting path runs on the client too
        counted = partition_sizes(ddf[ddf["flux"] > 0], progress=False)
        assert counted["rows"].tolist() == brute_force_rows(ddf[ddf["flux"] > 0])


def test_check_bad_inputs(parquet_dir):
    sizes = partition_sizes(dd.read_parquet(parquet_dir))
    with pytest.raises(ValueError, match="memory_limit is needed"):
        check_partitions(sizes)
    with pytest.raises(ValueError, match="factor must be a positive number"):
        check_partitions(sizes, "1GiB", factor=0)
    with pytest.raises(ValueError, match="memory_limit must be positive"):
        check_partitions(sizes, 0)
    with pytest.raises(TypeError, match="report must be"):
        check_partitions(sizes, object())
    with pytest.raises(TypeError, match="memory_limit must be"):
        check_partitions(sizes, memory_limit=[1])


# ----------------------------------------------------------------------------- LSDB / HATS


@pytest.fixture(scope="module")
def hats_catalog(tmp_path_factory) -> Path:
    lsdb = pytest.importorskip("lsdb", reason="LSDB path needs lsdb (pip install lsdb)")
    rng = np.random.default_rng(7)
    sparse, dense = 3_000, 4_000
    table = pd.DataFrame(
        {
            "ra": np.concatenate([rng.uniform(0, 60, sparse), rng.normal(20, 0.3, dense)]),
            "dec": np.concatenate([rng.uniform(0, 40, sparse), rng.normal(20, 0.3, dense)]),
            "mag": rng.normal(18, 1, sparse + dense),
        }
    )
    table["id"] = np.arange(len(table))
    catalog = lsdb.from_dataframe(table, lowest_order=2, highest_order=2, partition_rows=len(table))
    path = tmp_path_factory.mktemp("hats") / "catalog"
    catalog.write_catalog(path, as_collection=False)
    return path


def test_hats_metadata_agrees_with_brute_force(hats_catalog):
    import lsdb

    catalog = lsdb.open_catalog(hats_catalog)
    with no_compute():
        sizes = partition_sizes(catalog)
        top = largest_partitions(catalog, n=3)
        by_path = largest_partitions(hats_catalog, n=3)
    brute = catalog.to_dask_dataframe().to_delayed(optimize_graph=False)
    assert sizes.attrs["method"] == "hats-metadata"
    assert sizes["rows"].tolist() == [len(part.compute()) for part in brute]
    pixels = catalog.get_healpix_pixels()
    assert sizes["label"].tolist() == [f"Order: {p.order}, Pixel: {p.pixel}" for p in pixels]
    assert top["rows"].iloc[0] > 4_000  # the dense pixel
    assert top.equals(by_path)

    loaded = load_partition(catalog, top["label"].iloc[0])
    assert len(loaded) == top["rows"].iloc[0]


def test_hats_column_selection_and_modified_catalogs(hats_catalog):
    import lsdb

    catalog = lsdb.open_catalog(hats_catalog)
    with no_compute():
        everything = partition_sizes(catalog)
        mags = partition_sizes(lsdb.open_catalog(hats_catalog, columns=["mag"]))
    assert (mags["bytes"] < everything["bytes"]).all()
    assert mags["rows"].tolist() == everything["rows"].tolist()

    bright = catalog.query("mag < 17")  # rows change inside pixels: counted, not read
    counted = partition_sizes(bright, progress=False)
    assert counted.attrs["method"] == "counted"
    assert counted["rows"].sum() == int((bright.compute()["mag"] < 17).sum())


def test_empty_catalog_is_refused(hats_catalog):
    import lsdb

    empty = lsdb.open_catalog(hats_catalog).cone_search(ra=200, dec=-60, radius_arcsec=10)
    assert empty.get_healpix_pixels() == []
    with pytest.raises(ValueError, match="empty catalog"):
        largest_partitions(empty)


# ----------------------------------------------------------------------------- nested catalogs

CROWDED, DEEP, SMALL = 100, 300, 500  # order-3 pixels
SKEWED_FIELDS = [  # the most objects are not the most data
    dict(pixel=CROWDED, objects=6_000, observations=20),
    dict(pixel=DEEP, objects=1_500, observations=300),
    dict(pixel=SMALL, objects=800, observations=60),
]


@pytest.fixture(scope="module")
def nested_catalog(tmp_path_factory) -> Path:
    pytest.importorskip("lsdb", reason="nested catalogs need lsdb (pip install lsdb)")
    from clustercraft.tests.catalogs import Field, write_catalog

    fields = [Field(**field) for field in SKEWED_FIELDS]
    return write_catalog(tmp_path_factory.mktemp("nested") / "skewed", fields)


def pixel_label(pixel: int) -> str:
    return f"Order: 3, Pixel: {pixel}"


def test_nested_catalog_ranks_by_memory_not_objects(nested_catalog):
    import lsdb

    catalog = lsdb.open_catalog(nested_catalog)
    with no_compute():
        top = largest_partitions(catalog, n=None)
        by_objects = largest_partitions(catalog, n=None, by="rows")
        by_observations = largest_partitions(catalog, n=None, by="nested_rows")
    assert top.attrs["method"] == "hats-metadata"
    assert list(top.columns) == ["label", "partition", "rows", "nested_rows", "bytes", "memory"]
    assert top["label"].tolist() == [pixel_label(p) for p in (DEEP, CROWDED, SMALL)]
    assert by_observations["label"].tolist() == top["label"].tolist()
    assert by_objects["label"].iloc[0] == pixel_label(CROWDED)
    assert "rows: objects (top-level rows); nested_rows: rows of the nested column(s) lc" in (
        repr(top)
    )
    assert "largest first by memory" in top._repr_html_()
    for _, row in top.iterrows():
        part = load_partition(catalog, row["label"])
        assert row["rows"] == len(part)
        assert row["nested_rows"] == part["lc"].nest.flat_length
        measured = int(part.memory_usage(deep=True).sum())
        assert abs(row["memory"] - measured) <= 0.1 * measured, (row, measured)


def test_nested_catalog_in_memory_is_counted_the_same_way():
    import lsdb

    from clustercraft.tests.catalogs import Field, nested_lightcurves

    # A tenth of the objects: lsdb.from_dataframe is slow on nested-pandas frames.
    fields = [Field(**(field | {"objects": field["objects"] // 10})) for field in SKEWED_FIELDS]
    catalog = lsdb.from_dataframe(
        nested_lightcurves(fields), lowest_order=3, highest_order=3, margin_threshold=None
    )
    top = largest_partitions(catalog, n=None, progress=False)
    assert top.attrs["method"] == "counted"
    assert top["label"].iloc[0] == pixel_label(DEEP)
    assert largest_partitions(catalog, by="rows", progress=False)["label"].iloc[0] == (
        pixel_label(CROWDED)
    )
    for _, row in top.iterrows():
        part = load_partition(catalog, row["label"])
        assert row["nested_rows"] == part["lc"].nest.flat_length
        assert row["memory"] == row["bytes"] == int(part.memory_usage(deep=True).sum())


def test_nested_rows_of_a_flat_table_are_refused(parquet_dir):
    with pytest.raises(ValueError, match="no nested columns"):
        largest_partitions(dd.read_parquet(parquet_dir), by="nested_rows")
