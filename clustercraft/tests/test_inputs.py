"""What a measured cell reads from the namespace: sizes found without computing anything."""

from __future__ import annotations

import ast

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from clustercraft.sizing.inputs import call_inputs, cell_inputs, find_inputs


def refuse(*args, **kwargs):
    raise AssertionError("looking for inputs computed a Dask collection")


class Slotted:
    __slots__ = ("block",)


def test_data_is_measured_lazy_collections_are_not_computed():
    holder = type("Holder", (), {})()
    holder.data = {"a": np.ones(2**17)}  # 1 MiB, two levels down
    slotted = Slotted()
    slotted.block = np.ones(10)
    namespace = {
        "frame": pd.DataFrame({"x": np.arange(2**16)}),
        "ddf": dd.from_pandas(pd.DataFrame({"x": range(10)}), npartitions=2),
        "array": np.ones(2**17),
        "arrays": [np.ones(2**15)] * 4,
        "holder": holder,
        "slotted": slotted,
        "small": [1, 2, 3],
        "np": np,
    }
    with dask.config.set(scheduler=refuse):
        found = find_inputs(list(namespace), namespace)
    sizes = {item.name: (item.kind, item.nbytes, item.rows) for item in found.measured}
    frame_bytes = int(namespace["frame"].memory_usage(deep=True).sum())
    assert sizes == {
        "frame": ("DataFrame", frame_bytes, 2**16),
        "array": ("ndarray", 2**20, None),
        "arrays": ("list", 2**20, None),  # four 256 KiB arrays
        "holder": ("Holder", 2**20, None),
    }
    assert found.opaque == ["slotted (Slotted)"]
    assert "numpy" in found.modules


def test_names_written_before_read_are_not_inputs():
    tree = ast.parse("x = frame * 2\ny = x + other\nz = later\nlater = 1")
    namespace = {"frame": np.ones(2**17), "x": np.ones(2**17), "other": np.ones(2**17)}
    namespace["later"] = np.ones(2**17)
    found = cell_inputs(tree, namespace)
    assert [item.name for item in found.measured] == ["frame", "other", "later"]


def test_a_call_counts_its_arguments_and_the_globals_fn_reads():
    found = call_inputs(np.sum, (np.ones(2**17),), {"axis": 0})
    assert [(item.name, item.nbytes) for item in found.measured] == [("argument 1", 2**20)]
