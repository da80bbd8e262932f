"""``clustercraft.connect(name_or_id)``: a Client of a cluster launched from the panel.

It finds the cluster's state file in the runtime dir (see runtime.py) and connects with the
cluster's own TLS credentials, which only this user can read.
"""

from __future__ import annotations

import glob
import os
from typing import Any

from .runtime import PROFILES_FILE, client_security, runtime_dir
from .server.hoststate import BadState, HostState, read_state


def find_cluster(name_or_id: str, directory: str | None = None) -> HostState:
    """The state of the cluster with this name or id; LookupError naming the ones there are."""
    directory = directory or runtime_dir()
    states = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        if os.path.basename(path) == PROFILES_FILE:
            continue
        try:
            states.append(read_state(path))
        except (OSError, BadState):
            continue
    for state in states:
        if name_or_id in (state.id, state.name) and state.scheduler_address:
            return state
    known = ", ".join(sorted(state.name for state in states)) or "none"
    raise LookupError(f"no running cluster named {name_or_id!r} in {directory} (there: {known})")


def connect(name_or_id: str, directory: str | None = None, **client_kwargs: Any):
    """A ``distributed.Client`` connected to the panel's cluster ``name_or_id``."""
    from distributed import Client

    directory = directory or runtime_dir()
    state = find_cluster(name_or_id, directory)
    security = client_security(directory, state.id)
    if security is not None:
        client_kwargs.setdefault("security", security)
    return Client(state.scheduler_address, **client_kwargs)
