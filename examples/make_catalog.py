"""A synthetic light-curve catalog for the examples: no download, partitioned by HEALPix pixel.

Files are laid out like a HATS catalog's pixels (``dataset/Norder=4/Dir=0/Npix=<p>.parquet``,
one row per observation: object_id, mjd, mag, magerr), so ``clustercraft.largest_partitions``
labels them "Order: 4, Pixel: <p>". Pixels are uneven on purpose: one holds about a third of
all objects, the way a dense field (the Galactic plane, a deep-drilling field) does in a survey.
``objects.parquet`` holds each object's pixel and true period, to check the periodograms.

    python examples/make_catalog.py [PATH]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ORDER = 4
# Outside the repository by default; the notebook tests point it at their own tmp directory.
DEFAULT_PATH = Path(
    os.environ.get("CLUSTERCRAFT_EXAMPLES_DATA")
    or Path(tempfile.gettempdir()) / "clustercraft-examples" / "lightcurves"
)
SURVEY_DAYS = 1_000.0
DONE_MARKER = "_complete"  # written last, so a half-written catalog is rebuilt


def pixel_file(root: Path, pixel: int) -> Path:
    # HATS puts 10,000 pixels per Dir=.
    return (
        root
        / "dataset"
        / f"Norder={ORDER}"
        / f"Dir={pixel // 10_000 * 10_000}"
        / f"Npix={pixel}.parquet"
    )


def objects_per_pixel(
    rng: np.random.Generator, n_objects: int, n_pixels: int, dense_share: float
) -> np.ndarray:
    """Uneven object counts: one dense pixel with ``dense_share`` of all, the rest drawn at random."""
    dense = int(n_objects * dense_share)
    weights = rng.gamma(shape=1.5, size=n_pixels - 1)
    rest = rng.multinomial(n_objects - dense, weights / weights.sum())
    counts = np.concatenate([[dense], rest])
    rng.shuffle(counts)
    return np.maximum(counts, 1)


def light_curves(
    rng: np.random.Generator, first_id: int, count: int, points: tuple[int, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sinusoidal variables with noise: observations, and the objects' true periods."""
    ids = np.arange(first_id, first_id + count, dtype="int64")
    n_points = rng.integers(points[0], points[1], size=count)
    periods = rng.uniform(2.0, 50.0, size=count)
    amplitudes = rng.uniform(0.1, 0.8, size=count)
    base = rng.uniform(15.0, 20.0, size=count)
    errors = rng.uniform(0.01, 0.05, size=count)

    object_id = np.repeat(ids, n_points)
    row = np.repeat(np.arange(count), n_points)
    mjd = 58_000.0 + rng.uniform(0.0, SURVEY_DAYS, size=object_id.size)
    phase = 2 * np.pi * mjd / periods[row]
    mag = base[row] + amplitudes[row] * np.sin(phase) + rng.normal(0.0, errors[row])
    observations = pd.DataFrame(
        {
            "object_id": object_id,
            "mjd": mjd,
            "mag": mag.astype("float32"),
            "magerr": errors[row].astype("float32"),
        }
    ).sort_values(["object_id", "mjd"], ignore_index=True)
    objects = pd.DataFrame({"object_id": ids, "true_period": periods, "amplitude": amplitudes})
    return observations, objects


def make_lightcurve_catalog(
    path: str | Path = DEFAULT_PATH,
    *,
    n_objects: int = 6_000,
    n_pixels: int = 40,
    dense_share: float = 0.35,
    points: tuple[int, int] = (150, 450),
    seed: int = 42,
    overwrite: bool = False,
) -> Path:
    """Write the catalog under ``path`` (reused if already complete) and return ``path``."""
    root = Path(path)
    if (root / DONE_MARKER).exists() and not overwrite:
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(seed)
    pixels = np.sort(rng.choice(12 * 4**ORDER, size=n_pixels, replace=False))
    counts = objects_per_pixel(rng, n_objects, n_pixels, dense_share)

    catalog_objects = []
    first_id = 0
    for pixel, count in zip(pixels, counts, strict=True):
        observations, objects = light_curves(rng, first_id, int(count), points)
        target = pixel_file(root, int(pixel))
        target.parent.mkdir(parents=True, exist_ok=True)
        observations.to_parquet(target, index=False, row_group_size=200_000)
        catalog_objects.append(objects.assign(pixel=int(pixel)))
        first_id += int(count)
    pd.concat(catalog_objects, ignore_index=True).to_parquet(root / "objects.parquet", index=False)
    (root / DONE_MARKER).touch()
    return root


def main() -> None:
    root = make_lightcurve_catalog(
        sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PATH, overwrite=True
    )
    files = list((root / "dataset").rglob("*.parquet"))
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} pixel files, {size / 2**20:.1f} MiB of Parquet under {root}")


if __name__ == "__main__":
    main()
