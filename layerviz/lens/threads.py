"""BLAS threads for the lens's matrix work (CKA's Gram products, PCA): the idle cores only.

OpenBLAS's threads synchronise at every product; on a shared machine whose other cores are busy
they wait for each other instead of working. On 2 cores under a load of ~5, the CKA matrix of
MobileNetV2's 155 layers took 14.3 s with two threads and 3.8 s with one.
"""

from __future__ import annotations

import math
import os

from threadpoolctl import threadpool_limits

__all__ = ["blas_threads", "idle_cores"]


def idle_cores() -> int:
    """The cores the 1-minute load average leaves free, at least one."""
    cores = os.cpu_count() or 1
    try:
        idle = cores - os.getloadavg()[0]
    except OSError:  # no load average on this platform
        return cores
    return int(max(1, min(cores, math.floor(idle))))


def blas_threads() -> threadpool_limits:
    """A context in which BLAS (numpy's, scikit-learn's) uses :func:`idle_cores` threads."""
    return threadpool_limits(limits=idle_cores(), user_api="blas")
