"""What a request may ask of a cluster: the ClusterSpec and the checks of POST and PATCH bodies.

Every check raises SpecError naming the offending field, before anything is started.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from dask.utils import format_bytes, parse_bytes

from .profiles import (
    COMMON_FIELDS,
    LOCAL,
    LOCAL_PROFILE,
    MIN_MEMORY_LIMIT,
    Field,
    Profile,
    local_profile,
)

MAX_NAME_LENGTH = 64
MAX_TEXT_LENGTH = 200
MAX_MEMORY_LIMIT = 2**60  # bytes per worker: an exbibyte, past any machine
MAX_MEMORY_TEXT = 32  # characters of a memory size like "1.5 TiB"
ADDRESS_PATTERN = re.compile(
    r"(?P<scheme>tcp|tls)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})"
)
TLS_CREDENTIALS = ("tls_ca_file", "tls_client_cert", "tls_client_key")


class SpecError(ValueError):
    """Bad input; ``field`` names the offending field (None when it is the body itself)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; ``None`` means no limit. Memory limits apply to
    local profiles (this machine's memory); workers to every profile."""

    max_workers: int | None = None
    max_threads_per_worker: int | None = None
    max_memory_per_worker: int | None = None
    max_total_memory: int | None = None


@dataclass(frozen=True)
class Adapt:
    minimum: int
    maximum: int


@dataclass(frozen=True)
class ClusterSpec:
    """What a host runs: the profile's name and the values of its fields (``options``: JSON
    values, memory in bytes; None or absent: the factory's own default)."""

    name: str | None
    n_workers: int
    adapt: Adapt | None = None
    profile: str = LOCAL_PROFILE
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClusterSpec:
        adapt = data.get("adapt")
        return cls(
            name=data.get("name"),
            n_workers=int(data.get("n_workers") or 0),
            adapt=Adapt(**adapt) if adapt else None,
            profile=data.get("profile") or LOCAL_PROFILE,
            options=dict(data.get("options") or {}),
        )


@dataclass(frozen=True)
class ScaleRequest:
    n_workers: int


@dataclass(frozen=True)
class AdaptRequest:
    adapt: Adapt | None  # None: stop adapting


def validate_cluster_spec(
    body: Any,
    profiles: Mapping[str, Profile] | None = None,
    limits: Limits | None = None,
    default_profile: str = LOCAL_PROFILE,
) -> ClusterSpec:
    """A POST body made into a ClusterSpec, or SpecError naming the first bad field.

    The body names a profile (default ``default_profile``) and may set only that profile's
    fields besides name, profile, n_workers and adapt.
    """
    limits = limits or Limits()
    profiles = profiles or {LOCAL_PROFILE: local_profile()}
    body = _require_object(body)
    profile = _profile(body.get("profile", default_profile), profiles)
    own = [f.name for f in profile.fields if f.name != "n_workers"]
    for key in body:
        if key not in COMMON_FIELDS and key not in own:
            raise SpecError(
                f"{str(key)[:64]!r} is not a field of profile {profile.name!r}; it takes "
                f"{', '.join([*COMMON_FIELDS, *own])}",
                str(key)[:64],
            )

    name = _name(body["name"]) if body.get("name") is not None else None
    adapt = _adapt(body["adapt"], limits) if body.get("adapt") is not None else None
    workers = profile.field("n_workers") or Field("n_workers", "integer", 1)
    if body.get("n_workers") is not None:
        n_workers = _int(body["n_workers"], "n_workers", minimum=0 if adapt else 1)
    else:
        n_workers = adapt.minimum if adapt else workers.default or 1
    if adapt and not adapt.minimum <= n_workers <= adapt.maximum:
        raise SpecError(
            f"n_workers must lie between adapt minimum ({adapt.minimum}) and maximum ({adapt.maximum})",
            "n_workers",
        )
    _at_most(n_workers, _narrower(workers.maximum, limits.max_workers), "n_workers", "workers")
    if adapt:
        limit = _narrower(workers.maximum, limits.max_workers)
        _at_most(adapt.maximum, limit, "adapt.maximum", "workers")

    options = {}
    for spec_field in profile.fields:
        if spec_field.name == "n_workers":
            continue
        value = body.get(spec_field.name)
        options[spec_field.name] = (
            spec_field.default if value is None else field_value(spec_field, value)
        )
    memory = options.get("memory_limit") if profile.kind == LOCAL else None
    if memory is not None:
        _check_memory(memory, max(n_workers, adapt.maximum if adapt else 0), limits)
    return ClusterSpec(name, n_workers, adapt, profile.name, options)


def field_value(spec_field: Field, value: Any) -> Any:
    """A request's value for a profile's field, checked against its type and bounds."""
    name, kind = spec_field.name, spec_field.type
    if kind == "integer":
        value = _int(value, name, minimum=-math.inf)
    elif kind == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise SpecError(f"{name} must be a number", name)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise SpecError(f"{name} must be true or false", name)
    elif kind == "string":
        value = _text(value, name)
    elif kind == "choice":
        if value not in spec_field.choices:
            choices = ", ".join(map(str, spec_field.choices))
            raise SpecError(f"{name} must be one of {choices}", name)
    elif kind == "memory":
        value = _memory(value, name)
        if value is None:
            return spec_field.default
    if kind in ("integer", "number", "memory"):
        _in_bounds(value, spec_field)
    return value


def validate_patch(
    body: Any,
    limits: Limits | None = None,
    memory_limit: int | None = None,
    max_workers: int | None = None,
) -> ScaleRequest | AdaptRequest:
    """A PATCH body: exactly one of ``{n_workers}`` or ``{adapt}`` (``adapt: null`` stops).

    ``memory_limit`` is the cluster's per-worker limit, to keep totals within limits;
    ``max_workers`` its profile's own maximum, if narrower than the server's.
    """
    limits = limits or Limits()
    limits = replace(limits, max_workers=_narrower(limits.max_workers, max_workers))
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


@dataclass(frozen=True)
class AddressRequest:
    """``POST {"address"}``: a scheduler started elsewhere, to be listed (see watched.py)."""

    address: str
    name: str | None = None
    security: dict[str, str] | None = None  # tls:// only: each a file path or PEM text


def validate_address(body: Any) -> AddressRequest:
    """``{address, name?, security?: {tls_ca_file, tls_client_cert, tls_client_key}}``.

    The address is ``tcp://host:port`` or ``tls://host:port``; a ``tls://`` one needs the three
    credentials (paths on the server's machine, or PEM text), which go only to the host.
    """
    body = _require_object(body)
    _reject_unknown(body, ("address", "name", "security"))
    address = body.get("address")
    match = ADDRESS_PATTERN.fullmatch(address.strip()) if isinstance(address, str) else None
    if match is None or not 0 < int(match["port"]) < 65536:
        raise SpecError("address must be tcp://host:port or tls://host:port", "address")
    name = _name(body["name"]) if body.get("name") is not None else None
    security = body.get("security")
    if match["scheme"] == "tcp":
        if security is not None:
            raise SpecError("security is for tls:// addresses only", "security")
        return AddressRequest(match[0], name)
    if not isinstance(security, dict):
        raise SpecError(
            f"a tls:// address needs security: {{{', '.join(TLS_CREDENTIALS)}}}", "security"
        )
    _reject_unknown(security, TLS_CREDENTIALS)
    for key in TLS_CREDENTIALS:
        field_name = f"security.{key}"
        value = security.get(key)
        if not isinstance(value, str) or not value.strip():
            raise SpecError(f"{field_name} must be a file path or PEM text", field_name)
        if not value.lstrip().startswith("-----BEGIN") and not os.path.isfile(value):
            raise SpecError(f"{field_name}: no such file {_shorten(value)!r}", field_name)
    return AddressRequest(match[0], name, {key: security[key] for key in TLS_CREDENTIALS})


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


def _memory(value: Any, field_name: str = "memory_limit") -> int | None:
    if value is None or value == "auto":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SpecError(f'{field_name} must be a byte count or a string like "4 GiB"', field_name)
    if isinstance(value, str):
        unreadable = SpecError(
            f"{field_name}: cannot read {_shorten(value, 40)!r} as bytes", field_name
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
            f"{field_name} must be at most {format_bytes(MAX_MEMORY_LIMIT)}", field_name
        )
    if not math.isfinite(value) or value <= 0:
        raise SpecError(f"{field_name} must be more than 0 bytes", field_name)
    return int(value)


def _in_bounds(value: int | float, spec_field: Field) -> None:
    name, memory = spec_field.name, spec_field.type == "memory"

    def shown(bound: int | float) -> str:
        return format_bytes(bound) if memory else str(bound)

    if spec_field.minimum is not None and value < spec_field.minimum:
        why = (
            ": a Dask worker process needs 100-200 MiB for itself"
            if memory and spec_field.minimum == MIN_MEMORY_LIMIT
            else ""
        )
        raise SpecError(f"{name} must be at least {shown(spec_field.minimum)}{why}", name)
    if spec_field.maximum is not None and value > spec_field.maximum:
        raise SpecError(f"{name} must be at most {shown(spec_field.maximum)}", name)


def _text(value: Any, field_name: str) -> str:
    # No control characters: values end up in job scripts, one directive per line.
    if not isinstance(value, str):
        raise SpecError(f"{field_name} must be a string", field_name)
    if len(value) > MAX_TEXT_LENGTH:
        raise SpecError(f"{field_name} must be at most {MAX_TEXT_LENGTH} characters", field_name)
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise SpecError(f"{field_name} must not contain control characters", field_name)
    return value


def _profile(value: Any, profiles: Mapping[str, Profile]) -> Profile:
    if not isinstance(value, str) or value not in profiles:
        raise SpecError(
            f"unknown profile {str(value)[:64]!r}; this server offers {', '.join(profiles)}",
            "profile",
        )
    return profiles[value]


def _narrower(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


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
