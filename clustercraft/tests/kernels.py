"""Real Jupyter kernels for the tests, shut down and reaped at once."""

from __future__ import annotations

import contextlib

import psutil


def shutdown_kernel(manager, client) -> None:
    """Stop ``client`` and the kernel of ``manager``, and reap the kernel process now.

    Reaped later (when its Popen happens to be collected), its peak would count as a child
    process of whatever measurement this test process is running then.
    """
    pid = getattr(manager.provisioner, "pid", None)
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    if pid is None:
        return
    with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired, ChildProcessError):
        psutil.Process(pid).wait(timeout=10)  # waitpid: reaps our child
