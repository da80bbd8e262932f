"""Where clusters are found on this machine: the runtime dir of clustercraft.

The Jupyter server, its cluster hosts and the kernels all find the same directory:
``$CLUSTERCRAFT_RUNTIME_DIR``, else ``<jupyter runtime dir>/clustercraft``.
No jupyter_server import here.
"""

from __future__ import annotations

import os

RUNTIME_ENV = "CLUSTERCRAFT_RUNTIME_DIR"


def runtime_dir() -> str:
    configured = os.environ.get(RUNTIME_ENV)
    if configured:
        return configured
    from jupyter_core.paths import jupyter_runtime_dir

    return os.path.join(jupyter_runtime_dir(), "clustercraft")
