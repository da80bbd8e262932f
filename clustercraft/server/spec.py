"""What a request may ask of a cluster: the ClusterSpec and the checks of POST and PATCH bodies.

Every check raises SpecError naming the offending field, before anything is started.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dask.utils import format_bytes, parse_bytes

MAX_NAME_LENGTH = 64
MIN_MEMORY_LIMIT = 256 * 2**20  # bytes per worker
MAX_MEMORY_LIMIT = 2**60  # bytes per worker: an exbibyte, past any machine
MAX_MEMORY_TEXT = 32  # characters of a memory size like "1.5 TiB"


class SpecError(ValueError):
    """Bad input; ``field`` names the offending field (None when it is the body itself)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; ``None`` means no limit."""

    max_workers: int | None = None
    max_threads_per_worker: int | None = None
    max_memory_per_worker: int | None = None
    max_total_memory: int | None = None


@dataclass(frozen=True)
class Defaults:
    n_workers: int = 2
    threads_per_worker: int = 1
    memory_limit: int | None = None  # None: dask's "auto"
    processes: bool = True


@dataclass(frozen=True)
class Adapt:
    minimum: int
    maximum: int


@dataclass(frozen=True)
class ClusterSpec:
    name: str | None
    n_workers: int
    threads_per_worker: int
    memory_limit: int | None
    processes: bool
    adapt: Adapt | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClusterSpec:
        adapt = data.get("adapt")
        return cls(**{**data, "adapt": Adapt(**adapt) if adapt else None})


@dataclass(frozen=True)
class ScaleRequest:
    n_workers: int


@dataclass(frozen=True)
class AdaptRequest:
    adapt: Adapt | None  # None: stop adapting


CLUSTER_FIELDS = ("name", "n_workers", "threads_per_worker", "memory_limit", "processes", "adapt")


def validate_cluster_spec(
    body: Any, limits: Limits | None = None, defaults: Defaults | None = None
) -> ClusterSpec:
    """A POST body made into a ClusterSpec, or SpecError naming the first bad field."""
    limits = limits or Limits()
    defaults = defaults or Defaults()
    body = _require_object(body)
    _reject_unknown(body, CLUSTER_FIELDS)

    name = _name(body["name"]) if body.get("name") is not None else None
    adapt = _adapt(body["adapt"], limits) if body.get("adapt") is not None else None
    if "n_workers" in body:
        n_workers = _int(body["n_workers"], "n_workers", minimum=0 if adapt else 1)
    else:
        n_workers = adapt.minimum if adapt else defaults.n_workers
    if adapt and not adapt.minimum <= n_workers <= adapt.maximum:
        raise SpecError(
            f"n_workers must lie between adapt minimum ({adapt.minimum}) and maximum ({adapt.maximum})",
            "n_workers",
        )
    _at_most(n_workers, limits.max_workers, "n_workers", "workers")
    threads = body.get("threads_per_worker", defaults.threads_per_worker)
    threads = _int(threads, "threads_per_worker", minimum=1)
    _at_most(threads, limits.max_threads_per_worker, "threads_per_worker", "threads per worker")
    memory = _memory(body["memory_limit"]) if "memory_limit" in body else defaults.memory_limit
    processes = body.get("processes", defaults.processes)
    if not isinstance(processes, bool):
        raise SpecError("processes must be true or false", "processes")

    if memory is not None:
        _check_memory(memory, max(n_workers, adapt.maximum if adapt else 0), limits)
    return ClusterSpec(name, n_workers, threads, memory, processes, adapt)


def validate_patch(
    body: Any, limits: Limits | None = None, memory_limit: int | None = None
) -> ScaleRequest | AdaptRequest:
    """A PATCH body: exactly one of ``{n_workers}`` or ``{adapt}`` (``adapt: null`` stops).

    ``memory_limit`` is the cluster's per-worker limit, to keep totals within limits.
    """
    limits = limits or Limits()
    body = _require_object(body)
    _reject_unknown(body, ("n_workers", "adapt"))
    if len(body) != 1:
        raise SpecError("give exactly one of n_workers or adapt", None)
    if "n_workers" in body:
        n = _int(body["n_workers"], "n_workers", minimum=0)
        _at_most(n, limits.max_workers, "n_workers", "workers")
        if memory_limit:
            _check_memory(memory_limit, n, limits, field_name="n_workers")
        return ScaleRequest(n)
    if body["adapt"] is None:
        return AdaptRequest(None)
    adapt = _adapt(body["adapt"], limits)
    if memory_limit:
        _check_memory(memory_limit, adapt.maximum, limits, field_name="adapt.maximum")
    return AdaptRequest(adapt)


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SpecError("the request body must be a JSON object", None)
    return body


def _reject_unknown(body: Mapping[str, Any], known: Iterable[str]) -> None:
    for key in body:
        if key not in known:
            shown = _shorten(str(key))
            raise SpecError(f"unknown field {shown!r}; known: {', '.join(known)}", shown)


def _shorten(text: str, limit: int = 64) -> str:
    """Input echoed in a message: never more than ``limit`` characters of it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int(value: Any, field_name: str, minimum: int) -> int:
    # bool is an int in Python, never in a request.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{field_name} must be an integer", field_name)
    if value < minimum:
        raise SpecError(f"{field_name} must be at least {minimum}", field_name)
    return value


def _at_most(value: int, limit: int | None, field_name: str, what: str) -> None:
    if limit is not None and value > limit:
        raise SpecError(f"{field_name}: at most {limit} {what} may be asked for", field_name)


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise SpecError("name must be a string", "name")
    name = unicodedata.normalize("NFC", value.strip())  # "café" is one name however typed
    if not name:
        raise SpecError("name must not be empty", "name")
    if len(name) > MAX_NAME_LENGTH:
        raise SpecError(f"name must be at most {MAX_NAME_LENGTH} characters", "name")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise SpecError("name must not contain control characters", "name")
    return name


def _memory(value: Any) -> int | None:
    if value is None or value == "auto":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SpecError(
            'memory_limit must be a byte count or a string like "4 GiB"', "memory_limit"
        )
    if isinstance(value, str):
        unreadable = SpecError(
            f"memory_limit: cannot read {_shorten(value, 40)!r} as bytes", "memory_limit"
        )
        # "GB" alone is not a size (dask would read it as 1 GB); nor are 10 MB of digits.
        if len(value) > MAX_MEMORY_TEXT or not any(char.isdigit() for char in value):
            raise unreadable
        try:
            value = parse_bytes(value)
        except (ValueError, TypeError, OverflowError):  # "1e400" overflows
            raise unreadable from None
    if value > MAX_MEMORY_LIMIT:  # also keeps a 401-digit integer from reaching float()
        raise SpecError(
            f"memory_limit must be at most {format_bytes(MAX_MEMORY_LIMIT)}", "memory_limit"
        )
    if not math.isfinite(value) or value <= 0:
        raise SpecError("memory_limit must be more than 0 bytes", "memory_limit")
    if value < MIN_MEMORY_LIMIT:
        # Below this a worker's own memory crosses the nanny's 95 % line at start: it is
        # restarted over and over and never joins.
        raise SpecError(
            f"memory_limit must be at least {format_bytes(MIN_MEMORY_LIMIT)}: a Dask worker "
            "process needs 100-200 MiB for itself",
            "memory_limit",
        )
    return int(value)


def _check_memory(
    per_worker: int, n_workers: int, limits: Limits, field_name: str = "memory_limit"
) -> None:
    if limits.max_memory_per_worker is not None and per_worker > limits.max_memory_per_worker:
        raise SpecError(
            f"memory_limit: at most {format_bytes(limits.max_memory_per_worker)} per worker",
            "memory_limit",
        )
    total = per_worker * n_workers
    if limits.max_total_memory is not None and total > limits.max_total_memory:
        raise SpecError(
            f"{n_workers} workers x {format_bytes(per_worker)} = {format_bytes(total)} is more than "
            f"the {format_bytes(limits.max_total_memory)} available",
            field_name,
        )


def _adapt(value: Any, limits: Limits) -> Adapt:
    if not isinstance(value, dict):
        raise SpecError("adapt must be an object {minimum, maximum} or null", "adapt")
    for key in value:
        if key not in ("minimum", "maximum"):
            raise SpecError(f"adapt: unknown field {str(key)[:40]!r}", f"adapt.{str(key)[:40]}")
    if "minimum" not in value or "maximum" not in value:
        raise SpecError("adapt needs both minimum and maximum", "adapt")
    minimum = _int(value["minimum"], "adapt.minimum", minimum=0)
    maximum = _int(value["maximum"], "adapt.maximum", minimum=1)
    if minimum > maximum:
        raise SpecError("adapt.minimum must not exceed adapt.maximum", "adapt.minimum")
    _at_most(maximum, limits.max_workers, "adapt.maximum", "workers")
    return Adapt(minimum, maximum)
