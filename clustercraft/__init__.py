"""clustercraft: launch, inspect and right-size Dask clusters from inside JupyterLab.

This module holds entry points only; the work lives in ``server/`` (runs in
jupyter_server) and ``kernel/`` (runs in the IPython kernel).
"""

from __future__ import annotations

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0"

__all__ = [
    "__version__",
    "ClusterInfo",
    "check_partitions",
    "connect",
    "largest_partitions",
    "load_partition",
    "measure",
    "peak_memory",
    "profile_partitions",
    "publish_clusters",
]

_LAZY = {
    "connect": "clustercraft.client",
    "peak_memory": "clustercraft.sizing.peakmem",
    "measure": "clustercraft.sizing.peakmem",
    "ClusterInfo": "clustercraft.kernel.widgets",
    "largest_partitions": "clustercraft.sizing.partitions",
    "load_partition": "clustercraft.sizing.partitions",
    "check_partitions": "clustercraft.sizing.check",
    "profile_partitions": "clustercraft.sizing.profile",
    "publish_clusters": "clustercraft.kernel.discovery",
}


def __getattr__(name: str):
    # Lazy so that the Jupyter server never imports kernel-side code (and vice versa).
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clustercraft' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "clustercraft"}]


def _jupyter_server_extension_points():
    from .server import ClusterCraftApp

    return [{"module": "clustercraft.server", "app": ClusterCraftApp}]


def load_ipython_extension(ipython):
    from .kernel import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):
    from .kernel import unload_ipython_extension as _unload

    _unload(ipython)
