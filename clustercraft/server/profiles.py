"""Cluster profiles: the kinds of cluster a server's admin offers, and what a request may set.

``c.ClusterManager.profiles = {name: {"title", "factory", "kwargs", "fields"}}`` names a class
path, its keyword arguments (server configuration only, never shown to a browser: they may
hold a gateway's password) and the fields a request may set, each a :class:`Field`. A field
is given as a name the kind knows (``"cores"``: type, bounds and description from
:data:`KNOWN_FIELDS`) or as a dict that adds to or overrides that. A field's default is its
own ``default``, else the profile's kwargs value of that name, else the known one.

The built-in ``local`` profile (``distributed.LocalCluster``) takes the old fields; a
configured profile named ``local`` replaces its title, kwargs or fields. Every profile takes
``n_workers`` (listed first, bounded by ``max_workers``) and ``adapt``.

The Jupyter server never imports a factory: only the host process does (``import_factory``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dask.utils import parse_bytes

from clustercraft.profiles import GATEWAY, JOBQUEUE, LOCAL, LOCAL_CLUSTER, profile_kind

FIELD_TYPES = ("integer", "number", "boolean", "string", "memory", "choice")
MIN_MEMORY_LIMIT = 256 * 2**20  # bytes: below this a Dask worker cannot hold itself
LOCAL_PROFILE = "local"
COMMON_FIELDS = ("name", "profile", "n_workers", "adapt")  # every POST may carry these
PROFILE_KEYS = ("title", "factory", "kwargs", "fields")


@dataclass(frozen=True)
class Field:
    """One value a request may set. Memory values are bytes (ints); None: the factory's own."""

    name: str
    type: str
    default: Any = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[Any, ...] | None = None
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "type": self.type, "default": self.default}
        for key in ("minimum", "maximum"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.choices is not None:
            data["choices"] = list(self.choices)
        data["description"] = self.description
        return data


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    factory: str  # class path, imported by the host only
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # server config: never sent out
    fields: tuple[Field, ...] = ()  # n_workers first

    @property
    def kind(self) -> str:
        return profile_kind(self.factory)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """What GET /profiles shows: no kwargs."""
        return {
            "name": self.name,
            "title": self.title,
            "factory": self.factory,
            "kind": self.kind,
            "fields": [f.to_json() for f in self.fields],
        }

    def launch(self) -> dict[str, Any]:
        """What the host needs to build the cluster (sent on its stdin, never its argv)."""
        return {"name": self.name, "factory": self.factory, "kwargs": dict(self.kwargs)}


# Fields each kind knows by name; a site lists the ones its users may set.
KNOWN_FIELDS: dict[str, dict[str, Field]] = {
    LOCAL: {
        "threads_per_worker": Field("threads_per_worker", "integer", 1, 1, None, None, "Threads per worker"),
        "memory_limit": Field(
            "memory_limit", "memory", None, MIN_MEMORY_LIMIT, None, None,
            "Memory limit per worker (none: Dask's share of this machine)",
        ),
        "processes": Field(
            "processes", "boolean", True, None, None, None,
            "Workers in their own processes (else threads of the host process)",
        ),
    },
    JOBQUEUE: {
        "cores": Field("cores", "integer", None, 1, None, None, "Cores per job, shared by its worker processes"),
        "memory": Field("memory", "memory", None, MIN_MEMORY_LIMIT, None, None, "Memory per job, shared by its worker processes"),
        "processes": Field("processes", "integer", 1, 1, None, None, "Worker processes per job"),
        "queue": Field("queue", "string", None, None, None, None, "Queue (SLURM partition) the jobs go to"),
        "walltime": Field("walltime", "string", None, None, None, None, "Walltime per job, such as 01:00:00"),
        "account": Field("account", "string", None, None, None, None, "Account the jobs are charged to"),
    },
    GATEWAY: {
        "worker_cores": Field("worker_cores", "integer", None, 1, None, None, "Cores per worker"),
        "worker_memory": Field("worker_memory", "number", None, 0, None, None, "Memory per worker in GiB"),
    },
}  # fmt: skip


def n_workers_field(default: int, maximum: int | None) -> Field:
    return Field("n_workers", "integer", default, 1, maximum, None, "Workers")


def local_profile(
    n_workers: int = 2,
    threads_per_worker: int = 1,
    memory_limit: int | None = None,
    processes: bool = True,
    max_workers: int | None = None,
    max_threads_per_worker: int | None = None,
    max_memory_per_worker: int | None = None,
) -> Profile:
    """The built-in profile: a LocalCluster on this machine, with the server's defaults."""
    known = KNOWN_FIELDS[LOCAL]
    return Profile(
        LOCAL_PROFILE,
        "This machine",
        LOCAL_CLUSTER,
        {},
        (
            n_workers_field(n_workers, max_workers),
            replace(
                known["threads_per_worker"],
                default=threads_per_worker,
                maximum=max_threads_per_worker,
            ),
            replace(known["memory_limit"], default=memory_limit, maximum=max_memory_per_worker),
            replace(known["processes"], default=processes),
        ),
    )


def build_profiles(config: Mapping[str, Any], local: Profile) -> dict[str, Profile]:
    """The configured profiles (``local`` first); ValueError naming what is wrong."""
    if not isinstance(config, Mapping):
        raise ValueError("profiles must be a dict {name: {title, factory, kwargs, fields}}")
    profiles = {LOCAL_PROFILE: local}
    for name, entry in config.items():
        if not isinstance(name, str) or not name or not isinstance(entry, Mapping):
            raise ValueError(f"profile {name!r}: must be a non-empty name and a dict")
        try:
            profiles[name] = _profile(name, entry, local)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"profile {name!r}: {exc}") from None
    return profiles


def config_bytes(value: int | str | None) -> int | None:
    """A size from server configuration ("32 GiB" or bytes); None for "", None or "auto"."""
    if value in ("", None, "auto"):
        return None
    return parse_bytes(value) if isinstance(value, str) else int(value)


def import_factory(path: str) -> Any:
    """The class or function a configured class path ("package.module.Name") names."""
    import importlib

    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _profile(name: str, entry: Mapping[str, Any], local: Profile) -> Profile:
    unknown = set(entry) - set(PROFILE_KEYS)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; known: {', '.join(PROFILE_KEYS)}")
    base = local if name == LOCAL_PROFILE else None
    factory = entry.get("factory") or (base.factory if base else None)
    if not isinstance(factory, str) or "." not in factory:
        raise ValueError('needs "factory", a class path such as "dask_jobqueue.SLURMCluster"')
    kwargs = dict(entry.get("kwargs") or {})
    json.dumps(kwargs)  # the host gets them as JSON: TypeError for anything else
    n_workers = local.fields[0]
    if base is not None and "fields" not in entry:
        fields = base.fields
    else:
        specs = entry.get("fields", [])
        if not isinstance(specs, list | tuple):
            raise ValueError('"fields" must be a list of field names or dicts')
        known = {**KNOWN_FIELDS.get(profile_kind(factory), {}), "n_workers": n_workers}
        if base is not None:
            known |= {f.name: f for f in base.fields}
        fields = tuple(_field(spec, known, kwargs) for spec in specs)
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ValueError(f"a field is listed twice: {names}")
    clash = set(names) & (set(COMMON_FIELDS) - {"n_workers"})
    if clash:
        raise ValueError(f"{sorted(clash)} cannot be fields: every request may carry them")
    if "n_workers" not in names:
        fields = (n_workers,) + fields
    else:  # n_workers first; a profile may narrow, never widen, the server's max_workers
        mine = next(f for f in fields if f.name == "n_workers")
        limit = _narrower(mine.maximum, n_workers.maximum)
        fields = (replace(mine, maximum=limit),) + tuple(f for f in fields if f is not mine)
    title = entry.get("title") or (base.title if base else name)
    return Profile(name, str(title), factory, kwargs, fields)


def _field(spec: Any, known: Mapping[str, Field], kwargs: Mapping[str, Any]) -> Field:
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise ValueError(f"a field must be a name or a dict with a name, not {spec!r}")
    name = spec["name"]
    unknown = set(spec) - {
        "name",
        "type",
        "default",
        "minimum",
        "maximum",
        "choices",
        "description",
    }
    if unknown:
        raise ValueError(f"field {name!r}: unknown keys {sorted(unknown)}")
    template = known.get(name)
    if template is None and "type" not in spec:
        raise ValueError(f"field {name!r} is not one this kind knows: give its type")
    kind = spec.get("type", template.type if template else None)
    if kind not in FIELD_TYPES:
        raise ValueError(f"field {name!r}: type must be one of {', '.join(FIELD_TYPES)}")
    base = template if template is not None and template.type == kind else Field(name, kind)
    default = spec["default"] if "default" in spec else kwargs.get(name, base.default)
    choices = spec.get("choices", base.choices)
    if kind == "choice" and not choices:
        raise ValueError(f"field {name!r}: a choice needs choices")
    made = replace(
        base,
        default=_config_value(kind, default, name),
        minimum=_config_value(kind, spec.get("minimum", base.minimum), name),
        maximum=_config_value(kind, spec.get("maximum", base.maximum), name),
        choices=tuple(choices) if choices is not None else None,
        description=str(spec.get("description", base.description)),
    )
    return made


def _config_value(kind: str, value: Any, name: str) -> Any:
    """A bound or default from config in the form requests use (memory: bytes)."""
    if value is None:
        return None
    if kind == "memory":
        number = parse_bytes(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValueError(f"field {name!r}: {value!r} is not a size")
        return int(number)
    if kind in ("integer", "number") and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
    ):
        raise ValueError(f"field {name!r}: {value!r} is not a number")
    return value


def _narrower(a: int | float | None, b: int | float | None) -> int | float | None:
    return b if a is None else a if b is None else min(a, b)
