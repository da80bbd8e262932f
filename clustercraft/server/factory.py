"""The cluster class a host runs, and which of a request's fields it takes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .spec import SpecError

# The spec fields a cluster factory receives as keyword arguments of the same name.
FACTORY_SPEC_FIELDS = ("threads_per_worker", "memory_limit", "processes")
LOCAL_CLUSTER = "distributed.LocalCluster"


def import_factory(path: str) -> Any:
    """The class or function a configured class path ("package.module.Name") names."""
    import importlib

    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def is_local_cluster(factory: Any) -> bool:
    from distributed import LocalCluster

    return isinstance(factory, type) and issubclass(factory, LocalCluster)


def factory_fields(factory: Any) -> tuple[str, ...]:
    """Which of FACTORY_SPEC_FIELDS ``factory`` takes: all for LocalCluster and its
    subclasses, else those its signature names (a ``**kwargs`` catch-all does not count:
    a job-queue cluster's ``**job_kwargs`` has no use for ``threads_per_worker``)."""
    import inspect

    if is_local_cluster(factory):
        return FACTORY_SPEC_FIELDS
    try:
        names = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return ()
    return tuple(name for name in FACTORY_SPEC_FIELDS if name in names)


def check_factory_fields(body: Mapping[str, Any], path: str, taken: Iterable[str]) -> None:
    """SpecError for a field a request sets that the configured factory cannot take."""
    for name in FACTORY_SPEC_FIELDS:
        if body.get(name) is not None and name not in taken:
            raise SpecError(
                f"{name} cannot be set here: the server's cluster factory {path} does not "
                f"take it (its configuration decides)",
                name,
            )
