"""IPython magics registered by ``%load_ext clustercraft``."""

from __future__ import annotations


def register(ipython) -> None:
    """Register clustercraft's magics and display hooks on ``ipython``."""
