"""Where a recommended cluster is launched: the server's cluster profile it was sized for.

The Jupyter server lists its profiles for kernels in the runtime dir (``read_profiles``, what
GET /clustercraft/profiles returns). A recommendation put on one gets the exact POST body that
launches it there (``request``, sent as is by the widget's "Launch recommended cluster") and
the code that makes the same cluster (``code``, what "Copy as code" copies).
"""

from __future__ import annotations

from typing import Any

from dask.utils import format_bytes

from ..profiles import JOBQUEUE, profile_code, profile_kind, profile_request
from ..runtime import read_profiles, runtime_dir
from .recommend import counted


def find_profile(name: str) -> dict[str, Any]:
    """The server's profile called ``name``; ValueError naming the profiles there are."""
    profiles = read_profiles()
    for profile in profiles:
        if profile.get("name") == name:
            return profile
    if not profiles:
        raise ValueError(
            f"no cluster profile {name!r}: no Jupyter server with clustercraft lists its profiles "
            f"in {runtime_dir()} (it does while it runs)"
        )
    names = ", ".join(repr(p.get("name")) for p in profiles)
    raise ValueError(f"no cluster profile {name!r}; the server has {names}")


def place(recommendation: Any, profile: dict[str, Any] | None) -> None:
    """Give ``recommendation`` the POST body and the code that make it on ``profile`` (None:
    the server's default, a local cluster). When one worker does not fit the profile, its
    ``request`` is None (it cannot be launched there) and a warning says why."""
    if profile is None:
        request = {
            "n_workers": recommendation.n_workers,
            "threads_per_worker": recommendation.threads_per_worker,
            "memory_limit": recommendation.memory_limit,
        }
        recommendation.code = local_cluster_code(recommendation)
        refusal = beyond_limits(request, read_profiles()[:1])
        if refusal:
            recommendation.request = None
            recommendation.warnings.append(f"The Jupyter server would refuse it: {refusal}.")
        else:
            recommendation.request = request
        return
    try:
        request = profile_request(profile, recommendation)
    except ValueError as error:
        recommendation.request, recommendation.code = None, ""
        recommendation.warnings.append(f"Cannot launch it on profile {profile['name']!r}: {error}.")
        return
    recommendation.request = request
    recommendation.code = profile_code(profile, recommendation)
    recommendation.rationale += "\n" + _profile_line(profile, request)


def beyond_limits(request: dict[str, Any], profiles: list[dict[str, Any]]) -> str | None:
    """What in ``request`` the server's default profile (``profiles[:1]``) would refuse."""
    for field in profiles[0].get("fields", []) if profiles else []:
        value = request.get(field.get("name"))
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        shown = format_bytes if field.get("type") == "memory" else str
        maximum, minimum = field.get("maximum"), field.get("minimum")
        if maximum is not None and value > maximum:
            return (
                f"{field['name']} is {shown(value)}, and at most {shown(maximum)} may be asked for"
            )
        if minimum is not None and value < minimum:
            return f"{field['name']} is {shown(value)}, and at least {shown(minimum)} is needed"
    return None


def _profile_line(profile: dict[str, Any], request: dict[str, Any]) -> str:
    types = {f["name"]: f.get("type") for f in profile.get("fields", [])}
    factory = profile.get("factory", "")
    kind = profile.get("kind") or profile_kind(factory)
    said = ("profile", "n_workers", "processes") if kind == JOBQUEUE else ("profile", "n_workers")
    values = [
        f"{name}={format_bytes(value) if types.get(name) == 'memory' else value}"
        for name, value in request.items()
        if name not in said
    ]
    workers = request["n_workers"]
    how = counted(workers, "worker")
    if kind == JOBQUEUE:
        processes = request.get("processes", 1)
        how += f" in {counted(workers // processes, 'job')} of {counted(processes, 'process')}"
        head = "each job"
    else:
        head = "each"
    fields = f", {head} with {', '.join(values)}" if values else ""
    return f"On profile {profile['name']!r} ({factory}): {how}{fields}."


def local_cluster_code(recommendation: Any) -> str:
    """Python that starts the recommended cluster locally."""
    memory = format_bytes(recommendation.memory_limit)
    return (
        "from dask.distributed import Client, LocalCluster\n\n"
        f"cluster = LocalCluster(n_workers={recommendation.n_workers}, "
        f"threads_per_worker={recommendation.threads_per_worker}, "
        f'memory_limit="{memory}")\n'
        "client = Client(cluster)\n"
    )
