"""Kernel side: %%peakmem, the peak meter, inline widgets and partition helpers."""

from __future__ import annotations


def load_ipython_extension(ipython) -> None:
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython) -> None:
    from .display import unregister_display_hooks

    unregister_display_hooks(ipython)
