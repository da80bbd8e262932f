"""The kernel's glue (IPython and ipywidgets): the %%peakmem magics, display hooks and inline
widgets, and the kernel's clusters listed in the panel. What they measure and recommend comes
from the plain libraries in ``clustercraft.sizing``."""

from __future__ import annotations


def load_ipython_extension(ipython) -> None:
    from .discovery import publish_clusters
    from .magics import register

    register(ipython)
    publish_clusters()  # the clusters made here appear in the Dask clusters panel


def unload_ipython_extension(ipython) -> None:
    from .discovery import stop_publishing
    from .display import unregister_display_hooks

    unregister_display_hooks(ipython)
    stop_publishing()
