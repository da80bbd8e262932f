"""Sizing truth: does the recommended cluster run the whole job, and how full do its workers get?

For each dataset, three ways to size the cluster, each then running the whole job on a
LocalCluster of that shape (processes, 1 thread per worker, the memory limit it got):

  profile_partitions  clustercraft.profile_partitions(obj, fn): the largest partitions
                      loaded and run in a probe worker
  %%peakmem           clustercraft.measure(fn, pixel) on the largest pixel loaded before
                      with load_partition (the one-pixel workflow; the pixel, as reading
                      it was measured, now counts in the need)
  %%peakmem before    the same measurement sized as before issue 12: the cell's increment
                      plus an assumed 170 MiB worker, the pixel left out
  tutorial            the LSDB tutorial ("Determining the Right Dask Cluster Parameters"):
                      max(memory_profiler.memory_usage(proc=fn on the pixel)) x 2, measured
                      in a fresh process that loaded the pixel

and prints the largest worker peak (each worker process's own high-water mark, VmHWM) as
a % of the limit, memory restarts (worker processes that were replaced), and what sizing
cost: profile_partitions' wall time against the profiled partitions' own run time and
against one run of the largest partition in the kernel.

Datasets:
  example  examples/make_catalog.py's light curves (a Dask DataFrame of HATS-like Parquet)
           at --example-objects objects, with examples/one_pixel.ipynb's extract_features
  nested   a skewed nested LSDB catalog (clustercraft/tests/catalogs.py, 14 pixels): the
           pixel with the most objects is not the one with the most observations; the LSDB
           tutorial's calc_periods (light-curve's Periodogram through nested-pandas)

Target: 40-80 % of the limit and 0 restarts on every dataset; profiling at most 2x the
profiled partitions' own run time.

    .venv/bin/python bench/bench_sizing.py [--example-objects 60000] [--only nested]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from dask.utils import format_bytes

import clustercraft
from clustercraft.sizing.meter import read_status

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
WORKERS = 2  # what the tutorial's sizing gets: this machine's cores
POLL = 0.02  # seconds between reads of the workers' high-water marks
JOB_TIMEOUT = 240  # seconds; a job that takes longer is stalled (each takes under 40 s here)


# --------------------------------------------------------------------------- workloads


def extract_features(observations: pd.DataFrame) -> pd.DataFrame:
    """examples/one_pixel.ipynb's analysis: a periodogram and features per light curve."""
    import light_curve as licu

    extractor = licu.Extractor(
        licu.Periodogram(peaks=1, fast=True, max_freq_factor=2.0),
        licu.Amplitude(),
        licu.StandardDeviation(),
    )
    observations = observations.sort_values(["object_id", "mjd"])
    ids, starts = np.unique(observations["object_id"].to_numpy(), return_index=True)
    values = np.empty((0, len(extractor.names)))
    if len(ids):
        columns = [observations[c].to_numpy("float64") for c in ("mjd", "mag", "magerr")]
        curves = list(zip(*(np.split(column, starts[1:]) for column in columns), strict=True))
        values = extractor.many(curves, n_jobs=1)
    return pd.DataFrame(values, index=pd.Index(ids, name="object_id"), columns=extractor.names)


def calc_periods(pix_df):
    """The LSDB tutorial's calc_periods, on nested-pandas 0.7 (map_rows for reduce)."""
    import light_curve as licu

    extractor = licu.Extractor(licu.Periodogram(peaks=1, max_freq_factor=1.0, fast=True))

    def _extract_features(mjd, mag):
        if len(mjd) < 50:
            return dict(zip(extractor.names, [np.nan] * len(extractor.names), strict=True))
        t = np.asarray(mjd - 60000, dtype=np.float32)
        _, sort_index = np.unique(t, return_index=True)
        features = extractor(t[sort_index], np.asarray(mag, dtype=np.float32)[sort_index])
        return dict(zip(extractor.names, features, strict=True))

    return pix_df.map_rows(_extract_features, columns=["lc.mjd", "lc.mag"], row_container="args")


def nested_fields():
    from clustercraft.tests.catalogs import Field

    rng = np.random.default_rng(3)
    pixels = [int(p) for p in rng.choice(768, 14, replace=False)]
    fields = [Field(pixels[0], 8_000, 1_000), Field(pixels[1], 24_000, 80)]  # data / objects
    fields += [
        Field(p, int(rng.integers(1_000, 4_000)), int(rng.integers(50, 300))) for p in pixels[2:]
    ]
    return fields


class Dataset:
    def __init__(self, name: str, workdir: Path, example_objects: int) -> None:
        self.name = name
        if name == "example":
            from make_catalog import make_lightcurve_catalog

            self.path = make_lightcurve_catalog(
                workdir / f"example-{example_objects}", n_objects=example_objects
            )
            self.fn = extract_features
            self.objects = example_objects
        else:
            from clustercraft.tests.catalogs import write_catalog

            self.path = workdir / "nested"
            if not (self.path / "hats.properties").exists():
                write_catalog(self.path, nested_fields())
            self.fn = calc_periods
            self.objects = sum(field.objects for field in nested_fields())

    def open(self):
        if self.name == "example":
            import dask.dataframe as dd

            columns = ["object_id", "mjd", "mag", "magerr"]
            return dd.read_parquet(self.path / "dataset", columns=columns)
        import lsdb

        return lsdb.open_catalog(self.path)

    def run(self, client) -> int:
        """The whole job on ``client``: rows of output (TimeoutError after JOB_TIMEOUT)."""
        obj = self.open()
        meta = self.fn(obj.head(50)).iloc[:0]  # the output's columns, from a few rows
        job = obj.map_partitions(self.fn, meta=meta)
        if hasattr(job, "to_dask_dataframe"):  # an LSDB catalog
            job = job.to_dask_dataframe()
        return len(client.compute(job).result(timeout=JOB_TIMEOUT))


# --------------------------------------------------------------------------- sizing


def profile_sizing(dataset: Dataset) -> dict:
    report = clustercraft.profile_partitions(dataset.open(), dataset.fn, n=3, progress=False)
    r = report.recommendation
    cost = report.cost
    return {
        "method": "profile_partitions",
        "n_workers": r.n_workers,
        "memory_limit": r.memory_limit,
        "need": r.need,
        "cost": cost["total"],
        "runs": cost["runs"],
        "probe_start": cost["probe_start"],
        "largest": str(report.largest["label"]),
    }


def subprocess_sizing(dataset: Dataset, how: str, label: str) -> list[dict]:
    """A fresh process (a restarted kernel) loads the pixel and measures ``how``."""
    command = [sys.executable, __file__, "--measure", how, "--dataset", dataset.name]
    command += ["--path", str(dataset.path), "--label", label]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure_in_this_process(how: str, name: str, path: str, label: str) -> None:
    dataset = Dataset.__new__(Dataset)
    dataset.name, dataset.path = name, Path(path)
    dataset.fn = extract_features if name == "example" else calc_periods
    pixel = clustercraft.load_partition(dataset.open(), label)
    if how == "tutorial":
        from memory_profiler import memory_usage

        peak = max(memory_usage(proc=(dataset.fn, (pixel,)))) * 2**20
        limit = int(peak * 2)  # "multiply it by 1.5-2x", 2x for a few workers
        result = {"method": "tutorial (mprof x2)", "n_workers": WORKERS, "memory_limit": limit}
        result |= {"need": int(peak)}
        print(json.dumps([result]))
        return
    from clustercraft.sizing.recommend import recommend

    report = clustercraft.measure(dataset.fn, pixel)
    results = []
    # Before issue 12: the cell's increment + an assumed 170 MiB worker, the pixel left out.
    now, before = report.recommendation, recommend(report.increment)
    # ... with its limits rounded up to 256 MiB steps, as they then were
    before_limit = math.ceil(before.need * before.factor / 2**28) * 2**28
    for method, r, limit in (
        ("%%peakmem", now, now.memory_limit),
        ("%%peakmem before", before, before_limit),
    ):
        results.append(
            {"method": method, "n_workers": r.n_workers, "memory_limit": limit, "need": r.need}
        )
    print(json.dumps(results))


# --------------------------------------------------------------------------- the job


class WorkerWatch(threading.Thread):
    """Each worker process's high-water mark, and how many worker processes there were."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.hwm: dict[int, int] = {}
        self._done = threading.Event()

    def workers(self) -> list[psutil.Process]:
        found = []
        for child in psutil.Process().children(recursive=True):
            try:
                if "spawn_main" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                continue
        return found

    def run(self) -> None:
        while not self._done.wait(POLL):
            self.poll()

    def poll(self) -> None:
        for worker in self.workers():
            try:
                hwm = read_status(worker.pid)["VmHWM"]
            except (OSError, KeyError):
                continue
            self.hwm[worker.pid] = max(hwm, self.hwm.get(worker.pid, 0))

    def stop(self) -> None:
        self.poll()
        self._done.set()
        self.join()


def run_job(dataset: Dataset, sizing: dict, expected_rows: int) -> dict:
    from distributed import Client, LocalCluster

    watch = WorkerWatch()
    started = time.perf_counter()
    with (
        LocalCluster(
            n_workers=sizing["n_workers"],
            threads_per_worker=1,
            memory_limit=sizing["memory_limit"],
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        watch.poll()
        watch.start()
        try:
            rows = dataset.run(client)
            status = "ok" if rows == expected_rows else f"{rows} rows of {expected_rows}"
        except TimeoutError:  # e.g. workers paused at 80 % that never get below it again
            status = f"stalled {JOB_TIMEOUT} s"
        except Exception as error:
            status = f"failed: {type(error).__name__}"
        finally:
            watch.stop()
    peak = max(watch.hwm.values(), default=0)
    return sizing | {
        "peak": peak,
        "share": peak / sizing["memory_limit"],
        "restarts": len(watch.hwm) - sizing["n_workers"],
        "status": status,
        "seconds": time.perf_counter() - started,
    }


# --------------------------------------------------------------------------- main


def one_kernel_run(dataset: Dataset, label) -> float:
    """Load the largest partition and run fn on it in this process: what a user tries first."""
    started = time.perf_counter()
    dataset.fn(clustercraft.load_partition(dataset.open(), label))
    return time.perf_counter() - started


def bench(dataset: Dataset, repeat: int) -> list[dict]:
    obj = dataset.open()
    top = clustercraft.largest_partitions(obj, n=1, progress=False)
    label = top["label"].iloc[0]
    one_run = one_kernel_run(dataset, label)
    sizings = [
        profile_sizing(dataset),
        *subprocess_sizing(dataset, "peakmem", str(label)),
        *subprocess_sizing(dataset, "tutorial", str(label)),
    ]
    results = []
    for sizing in sizings:
        for _ in range(repeat):
            results.append(run_job(dataset, sizing | {"one_run": one_run}, dataset.objects))
    return results


def report(dataset: str, results: list[dict]) -> None:
    print(f"\n{dataset}")
    head = ("sizing", "limit", "workers", "need", "largest peak", "of limit", "restarts", "job")
    print(f"  {head[0]:<20}" + "".join(f"{h:>13}" for h in head[1:]))
    for r in results:
        cells = [
            format_bytes(r["memory_limit"]),
            str(r["n_workers"]),
            format_bytes(r["need"]),
            format_bytes(r["peak"]),
            f"{r['share']:.0%}",
            str(r["restarts"]),
        ]
        job = f"{r['status']}, {r['seconds']:.0f} s"
        print(f"  {r['method']:<20}" + "".join(f"{c:>13}" for c in cells) + f"  {job}")
    profile = next(r for r in results if r["method"] == "profile_partitions")
    print(
        f"  profile_partitions cost {profile['cost']:.1f} s (probe start "
        f"{profile['probe_start']:.1f} s) = {profile['cost'] / profile['runs']:.2f}x the "
        f"profiled partitions' own runs ({profile['runs']:.1f} s) and "
        f"{profile['cost'] / profile['one_run']:.2f}x one run of the largest partition in "
        f"the kernel ({profile['one_run']:.1f} s, load included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example-objects", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each job")
    parser.add_argument("--only", choices=("example", "nested"))
    parser.add_argument("--workdir", default=os.path.join("/tmp", "clustercraft-bench-sizing"))
    parser.add_argument("--measure", choices=("tutorial", "peakmem"), help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        label = int(args.label) if args.label.isdigit() else args.label
        measure_in_this_process(args.measure, args.dataset, args.path, label)
        return
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, data under {workdir}")
    for name in ("example", "nested"):
        if args.only in (None, name):
            dataset = Dataset(name, workdir, args.example_objects)
            report(name, bench(dataset, args.repeat))


if __name__ == "__main__":
    main()
