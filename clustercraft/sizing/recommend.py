"""The cluster a measured peak implies: workers, threads per worker, memory limit, and why."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import psutil
from dask.utils import format_bytes, parse_bytes

MiB = 2**20
GiB = 2**30

# RSS of a Dask worker process before it holds data, when it cannot be measured here (the
# probe worker of probe.py measures it): with distributed 2026.8 on Python 3.11, 63 MiB
# fresh, 167 MiB once numpy, pandas, pyarrow and dask.dataframe are imported, which any
# real analysis task does; more with the analysis's own libraries (298 MiB with lsdb,
# nested_pandas and light_curve).
WORKER_BASE_RSS = 170 * MiB
WORKER_BASE_NOTE = (
    "a Dask worker process's own RSS (assumed: 63 MiB fresh, 167 MiB with numpy, pandas, "
    "pyarrow and dask.dataframe imported, more with other libraries)"
)

FEW_WORKERS_FACTOR = 2.0
MANY_WORKERS_FACTOR = 1.5
# From this many workers on, the cheaper factor is used (see _factor_reason).
MANY_WORKERS = 8

# Round limits up to steps a person would type: (limit up to, step).
# Fine steps for small workers, so that rounding up does not halve how full they run.
READABLE_STEPS = (
    (2 * GiB, 128 * MiB),
    (4 * GiB, GiB // 4),
    (32 * GiB, GiB // 2),
    (math.inf, GiB),
)


@dataclass
class Recommendation:
    """A cluster shape: what to pass to ``LocalCluster`` or a job-queue cluster."""

    n_workers: int
    threads_per_worker: int
    memory_limit: int
    rationale: str
    factor: float
    need: int
    warnings: list[str] = field(default_factory=list)
    profile: str | None = None  # the cluster profile to launch it with (None: the default)
    # The POST /clustercraft/clusters body that launches it (None: it cannot be launched on its
    # profile) and the Python that makes the same cluster; see launch.place.
    request: dict | None = None
    code: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def counted(n: int, noun: str) -> str:
    """``1 worker``, ``2 workers``; ``1 process``, ``3 processes``."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}{'es' if noun.endswith(('s', 'sh', 'ch', 'x')) else 's'}"


def readable_size(nbytes: float) -> int:
    """Round ``nbytes`` up to the next 128 MiB (<= 2 GiB), 256 MiB (<= 4 GiB), 512 MiB
    (<= 32 GiB) or 1 GiB step."""
    if not math.isfinite(nbytes):
        raise ValueError(f"not a size: {nbytes!r}")
    for upto, step in READABLE_STEPS:
        if nbytes <= upto:
            return int(max(1, math.ceil(nbytes / step)) * step)
    raise AssertionError("unreachable: the last step has no upper bound")


def machine_memory() -> int:
    """Physical memory of this machine, or the cgroup limit when one is lower."""
    total = psutil.virtual_memory().total
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def machine_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return psutil.cpu_count() or 1


def as_bytes(value: int | str | None) -> int | None:
    """Accept ``100GB``-style strings as well as byte counts."""
    if value is None or isinstance(value, int):
        return value
    return parse_bytes(value)


# ---------------------------------------------------------------- sizing options


def check_factor(value: Any) -> float:
    """A safety factor: a finite number of at least 1 (ValueError says what it must be)."""
    try:
        factor = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        factor = math.nan
    if not (math.isfinite(factor) and factor >= 1):
        raise ValueError(f"must be a finite number of at least 1, not {value!r}")
    return factor


def check_count(value: Any) -> int:
    """A count of workers or cores: a whole number of at least 1."""
    try:
        whole = not isinstance(value, bool) and float(value).is_integer()
        count = int(float(value)) if whole else 0
    except (TypeError, ValueError, OverflowError):
        count = 0
    if count < 1:
        raise ValueError(f"must be a whole number of at least 1, not {value!r}")
    return count


def check_bytes(value: Any, minimum: int = 1) -> int:
    """A byte count, or a size like ``100GB``, of at least ``minimum`` bytes."""
    try:
        if isinstance(value, str):
            nbytes = parse_bytes(value)
        elif isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(value)
        else:
            nbytes = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"must be a finite byte count or a size like '100GB', not {value!r}"
        ) from None
    if nbytes < minimum:
        least = {0: "must not be negative", 1: "must be more than 0 bytes"}.get(
            minimum, f"must be at least {format_bytes(minimum)}"
        )
        raise ValueError(f"{least}, not {value!r}")
    return nbytes


def check_worker_base(value: Any) -> int:
    return check_bytes(value, minimum=0)


@dataclass
class SizingOptions:
    """What shapes a recommendation besides the measured need, checked when made: ValueError
    naming the option. ``memory_available`` (per node) and ``worker_base`` (a worker's own
    memory) take bytes or sizes like ``100GB``; ``profile`` names one of the server's cluster
    profiles (``on_profile``, its listing, is looked up when not given)."""

    factor: float | None = None
    n_workers: int | None = None
    memory_available: int | None = None
    cores: int | None = None
    worker_base: int | None = None
    profile: str | None = None
    on_profile: dict | None = field(default=None, repr=False)

    CHECKS: ClassVar[dict[str, Any]] = {
        "factor": check_factor,
        "n_workers": check_count,
        "memory_available": check_bytes,
        "cores": check_count,
        "worker_base": check_worker_base,
    }

    def __post_init__(self) -> None:
        for name, check in self.CHECKS.items():
            value = getattr(self, name)
            if value is not None:
                try:
                    setattr(self, name, check(value))
                except ValueError as error:
                    raise ValueError(f"{name} {error}") from None
        if self.on_profile is not None and self.profile is None:
            self.profile = self.on_profile["name"]
        if self.profile is not None and self.on_profile is None:
            from .launch import find_profile

            self.on_profile = find_profile(self.profile)

    def shape(self) -> dict[str, Any]:
        """The keywords of :func:`size_cluster` and :func:`recommend`."""
        return {
            "factor": self.factor,
            "n_workers": self.n_workers,
            "memory_available": self.memory_available,
            "cores": self.cores,
            "profile": self.profile,
        }


def recommend(
    increment: int,
    *,
    baseline: int = 0,
    children_peak: int = 0,
    factor: float | None = None,
    n_workers: int | None = None,
    memory_available: int | str | None = None,
    cores: int | None = None,
    reserved: int = 0,
    worker_base: int = WORKER_BASE_RSS,
    worker_base_note: str = WORKER_BASE_NOTE,
    inputs: int = 0,
    inputs_note: str = "",
    loading: int = 0,
    profile: str | None = None,
) -> Recommendation:
    """Size a cluster for a function whose run on one partition rose ``increment`` bytes.

    ``inputs`` are bytes of data the run used that were loaded before it (a worker loads
    them too), ``loading`` the peak of reading them, ``worker_base`` a worker process's own
    memory. ``memory_available`` and ``cores`` describe one node; by default this machine,
    less ``reserved`` bytes (the measuring kernel, which stays alive next to a local cluster).
    """
    increment = max(increment, 0)
    need = max(increment + inputs, loading) + worker_base
    parts = [f"{format_bytes(increment)} measured increment"]
    if inputs:
        parts.append(f"{format_bytes(inputs)} {inputs_note}")
    if loading > increment + inputs:  # reading the inputs peaked higher than the cell
        parts = [
            f"{format_bytes(loading)} reading the inputs (more than the cell's {' + '.join(parts)})"
        ]
    parts.append(f"{format_bytes(worker_base)} for {worker_base_note}")
    need_line = (
        f"Need per worker: {' + '.join(parts)} = {format_bytes(need)}; the kernel's baseline "
        "(imports, notebook state) is left out since a worker has its own."
    )
    recommendation = size_cluster(
        need,
        need_line,
        factor=factor,
        n_workers=n_workers,
        memory_available=memory_available,
        cores=cores,
        reserved=reserved,
        profile=profile,
    )
    baseline_warning = not inputs and baseline > increment and baseline > 2 * worker_base
    if baseline_warning:
        recommendation.warnings.append(
            f"The kernel already held {format_bytes(baseline)} before the cell, more than the "
            f"cell added ({format_bytes(increment)}). If the cell works on data loaded "
            "earlier (the partition itself), load it inside the measured cell, or each "
            "worker's need is underestimated."
        )
    if children_peak > need // 4:
        recommendation.warnings.append(
            f"Child processes peaked at {format_bytes(children_peak)}; a Dask memory limit "
            "covers the worker process only, so leave room for its children."
        )
    return recommendation


def size_cluster(
    need: int,
    need_line: str,
    *,
    factor: float | None = None,
    n_workers: int | None = None,
    memory_available: int | str | None = None,
    cores: int | None = None,
    reserved: int = 0,
    profile: str | None = None,
) -> Recommendation:
    """The cluster for workers that each need ``need`` bytes (``need_line`` says why)."""
    here = memory_available is None
    node_memory = machine_memory() - reserved if here else as_bytes(memory_available)
    node_cores = cores or machine_cores()

    def workers_per_node(f: float) -> int:
        return int(max(0, min(node_cores, node_memory // readable_size(need * f))))

    if factor is None:
        factor = _auto_factor(n_workers or workers_per_node(FEW_WORKERS_FACTOR))
    limit = readable_size(need * factor)
    per_node = workers_per_node(factor)
    count = n_workers or max(per_node, 1)

    where = "this machine" if here else "one node"
    lines = [
        need_line,
        f"Memory limit = need x {factor:g} = {format_bytes(int(need * factor))}, rounded up to "
        f"{format_bytes(limit)}. {_factor_reason(factor, count)}",
        "1 thread per worker: the limit holds one partition in flight; each extra thread "
        "would run another partition at the same time in the same memory.",
        _count_reason(
            count, per_node, n_workers, limit, node_memory, node_cores, where, here and reserved > 0
        ),
    ]
    too_big = per_node == 0 or (here and count > per_node)
    warnings = []
    if too_big:
        total = f"{count} x {format_bytes(limit)}" if count > 1 else format_bytes(limit)
        warnings.append(
            f"The cluster needs {total} but {where} has {format_bytes(node_memory)}: use a "
            "job-queue cluster on bigger or more nodes (dask-jobqueue, e.g. "
            f"SLURMCluster(cores=1, processes=1, memory='{format_bytes(limit)}')), or split "
            "the data into smaller partitions."
        )
    return Recommendation(
        n_workers=count,
        threads_per_worker=1,
        memory_limit=limit,
        rationale="\n".join(lines),  # one reason per line
        factor=factor,
        need=need,
        warnings=warnings,
        profile=profile,
    )


def _auto_factor(n_workers: int) -> float:
    return MANY_WORKERS_FACTOR if n_workers >= MANY_WORKERS else FEW_WORKERS_FACTOR


def _factor_reason(factor: float, count: int) -> str:
    if factor == FEW_WORKERS_FACTOR:
        return (
            f"x{factor:g} with only {counted(count, 'worker')} (fewer than {MANY_WORKERS}): the "
            "need sits at "
            "50 % of the limit, below Dask's 60 % spill target, and an out-of-memory restart "
            "would lose a large share of a small cluster."
        )
    if factor == MANY_WORKERS_FACTOR:
        return (
            f"x{factor:g} with {counted(count, 'worker')} sharing the load: the need reaches 67 % of the "
            "limit, past Dask's 60 % spill target but under its 80 % pause threshold, and one "
            "restart costs little; the saving buys a third more workers."
        )
    return f"x{factor:g} as asked."


def _count_reason(
    count: int,
    per_node: int,
    asked: int | None,
    limit: int,
    node_memory: int,
    node_cores: int,
    where: str,
    less_kernel: bool,
) -> str:
    memory = format_bytes(node_memory) + (
        " (after this kernel's own memory)" if less_kernel else ""
    )
    fits = (
        f"{where} has {memory} and {counted(node_cores, 'core')}, room for "
        f"{counted(per_node, 'such worker')}"
    )
    if asked:
        nodes = (
            f"they need {counted(math.ceil(asked / per_node), 'node')} like it"
            if per_node
            else "no node like it holds one"
        )
        return f"{counted(asked, 'worker')} as asked; {fits}, so {nodes}."
    if per_node == 0:
        return f"1 worker: {fits}."
    bound = "cores" if per_node == node_cores else "memory"
    extra = ""
    if bound == "cores" and node_memory // per_node > limit:
        extra = f" Memory would allow up to {format_bytes(node_memory // per_node)} per worker."
    return f"{counted(count, 'worker')}: {fits} (bound by {bound}).{extra}"


# ---------------------------------------------------------------- the verdict on a run

FINE_RANGE = (0.4, 0.8)  # of the memory limit: a worker peak here is sized right
RIGHT_FRACTION = 0.6  # the limit that would have been right puts the peak here
SAMPLED_VERDICT_NOTE = " (peaks sampled: short spikes can be missed)"
VERDICT_WORDS = {"fine": "fine", "oversized": "oversized", "at-risk": "at risk", "failed": "failed"}


def verdict(cluster: dict) -> dict | None:
    """The verdict on a run, from a cluster object (``workers`` rows with ``memory_peak``,
    ``memory_restarts``): the largest worker peak against its limit, and the right limit.

    Levels: failed on any memory restart; else fine with the peak at 40-80 % of the limit,
    oversized below, at risk above. None while no worker reports a peak and none restarted,
    and while no worker has started a task (an idle worker's peak is no run's).
    src/verdict.ts words the same verdict for the browser; keep the two in step.
    """
    restarts = int(cluster.get("memory_restarts") or 0)
    rows = cluster.get("workers") or []
    top = max(rows, key=lambda r: (r.get("memory_peak") or 0, r["memory_limit"]), default={})
    peak, limit = top.get("memory_peak") or 0, top.get("memory_limit") or 0
    idle = bool(rows) and all(row.get("ran_tasks") is False for row in rows)
    if not restarts and (not peak or idle):
        return None
    fraction = peak / limit if limit else None
    if restarts:
        level = "failed"
    elif fraction is None:
        level = "unlimited"
    elif fraction > FINE_RANGE[1]:
        level = "at-risk"
    elif fraction < FINE_RANGE[0]:
        level = "oversized"
    else:
        level = "fine"
    # A restarted worker's own peak is gone with it: it needed more than its whole limit.
    need = max(peak, limit) if restarts else peak
    right = readable_size(need / RIGHT_FRACTION) if need else None
    return {
        "level": level,
        "peak": peak,
        "limit": limit,
        "fraction": fraction,
        "restarts": restarts,
        "right_limit": right,
        "text": _verdict_text(level, peak, limit, fraction, restarts, right)
        + (SAMPLED_VERDICT_NOTE if cluster.get("memory_peak_method") == "sampled" else ""),
    }


def _verdict_text(level, peak, limit, fraction, restarts, right) -> str:
    restart_text = f"{restarts} restart" + ("" if restarts == 1 else "s")
    if not peak:
        head = f"No worker peak known yet; {restart_text}"
    elif fraction is None:
        head = f"Largest worker peak {format_bytes(peak)}, no memory limit; {restart_text}"
    else:
        percent = math.floor(fraction * 100 + 0.5)  # as JavaScript's Math.round
        head = (
            f"Largest worker peak {format_bytes(peak)} = {percent} % of its "
            f"{format_bytes(limit)} limit; {restart_text}"
        )
    tail = [VERDICT_WORDS[level]] if level in VERDICT_WORDS else []  # "unlimited": head says
    if right:
        tail.append(
            ("at least " if level == "failed" else "") + f"{format_bytes(right)} would be right"
        )
    return " — ".join([head, "; ".join(tail)]) if tail else head
