"""Skewed nested LSDB catalogs of light curves, made locally (tests and bench/bench_sizing.py).

Each field is a patch of sky with its own number of objects and observations per object,
so that the pixel with the most objects is not the one with the most data: what a
real survey has (a crowded field seen rarely, a sparse deep-drilling field seen often).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ORDER = 3  # HEALPix order of the pixels: about 7 degrees across


@dataclass
class Field:
    pixel: int  # the order-3 HEALPix pixel it lies in, whole
    objects: int
    observations: int  # per object, on average (uniform between half and 1.5 times)


def lightcurve_table(fields: list[Field], seed: int = 7) -> pd.DataFrame:
    """One row per object, its light curve in ``lc``: an Arrow struct of lists (mjd, mag,
    magerr, band), which LSDB writes and reads back as a nested column."""
    import pyarrow as pa
    from cdshealpix.nested import healpix_to_lonlat

    rng = np.random.default_rng(seed)
    bases, counts = [], []
    for field in fields:
        lon, lat = healpix_to_lonlat(np.array([field.pixel]), ORDER)
        # within half a degree of the pixel's centre: the pixel holds the whole field
        bases.append(
            pd.DataFrame(
                {
                    "ra": lon.deg[0] + rng.uniform(-0.5, 0.5, field.objects),
                    "dec": lat.deg[0] + rng.uniform(-0.5, 0.5, field.objects),
                }
            )
        )
        low = max(field.observations // 2, 1)
        counts.append(rng.integers(low, field.observations + low + 1, field.objects))
    table = pd.concat(bases, ignore_index=True)
    table.insert(0, "id", np.arange(len(table), dtype="int64"))
    n_points = np.concatenate(counts)
    offsets = pa.array(np.concatenate([[0], np.cumsum(n_points)]).astype("int32"))
    total = int(n_points.sum())
    period = np.repeat(rng.uniform(2.0, 50.0, len(table)), n_points)
    mjd = rng.uniform(0.0, 1000.0, total)
    values = {
        "mjd": pa.array(mjd),
        "mag": pa.array((18 + 0.5 * np.sin(2 * np.pi * mjd / period)).astype("float32")),
        "magerr": pa.array(np.full(total, 0.02, dtype="float32")),
        "band": pa.array(rng.choice(["g", "r"], total)),
    }
    lists = [pa.ListArray.from_arrays(offsets, column) for column in values.values()]
    light_curves = pa.StructArray.from_arrays(lists, names=list(values))
    table["lc"] = pd.Series(pd.arrays.ArrowExtensionArray(light_curves))
    return table


def nested_lightcurves(fields: list[Field], seed: int = 7):
    """``lightcurve_table`` as a nested-pandas NestedFrame (``lc`` a nested column)."""
    import nested_pandas as npd
    from nested_pandas.series.dtype import NestedDtype

    table = lightcurve_table(fields, seed)
    frame = npd.NestedFrame(table.drop(columns="lc"))
    frame["lc"] = table["lc"].astype(NestedDtype(table["lc"].dtype.pyarrow_dtype))
    return frame


def write_catalog(path: Path, fields: list[Field], seed: int = 7) -> Path:
    """Write the catalog as HATS (one pixel per field) and return its path."""
    import lsdb

    catalog = lsdb.from_dataframe(
        lightcurve_table(fields, seed),  # Arrow lists: lsdb tokenizes them fast
        lowest_order=ORDER,
        highest_order=ORDER,
        ra_column="ra",
        dec_column="dec",
        margin_threshold=None,
        catalog_name=Path(path).name,
    )
    catalog.write_catalog(path, as_collection=False, overwrite=True)
    return Path(path)
