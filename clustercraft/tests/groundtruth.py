"""Ground-truth workloads for the peak meter, shared by its tests and bench/bench_peakmem.py.

Touched numpy allocations of known size (np.ones touches every page, np.empty would not),
held for a while or not, in the main thread or in another thread.
"""

from __future__ import annotations

import threading
import time

import numpy as np

MiB = 2**20
GiB = 2**30


def tolerance(truth: int) -> float:
    """The target: error within max(1 %, 2 MiB)."""
    return max(0.01 * truth, 2 * MiB)


def hold(nbytes: int, seconds: float) -> None:
    block = np.ones(nbytes // 8)
    time.sleep(seconds)
    del block


def in_thread(nbytes: int, seconds: float) -> None:
    worker = threading.Thread(target=hold, args=(nbytes, seconds))
    worker.start()
    worker.join()
