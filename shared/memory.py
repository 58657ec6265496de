"""Handing memory back to the system after large, short-lived buffers (glibc's malloc).

A decoded photo is a few hundred megabytes that live for a second. glibc serves blocks of
that size from `mmap` only while they are above a threshold that it raises each time such a
block is freed, and keeps up to eight arenas per core for threads: after a burst of uploads
the freed memory stays in the heap of a long-running process. `limit_heap` fixes the
threshold (blocks from 1 MiB up come from `mmap` and go back when freed) and caps the
arenas; `trim` returns what free memory the heap holds at its top and in its holes.

Both do nothing where the C library is not glibc (macOS, musl): they say so by returning
False.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache

# mallopt(3) parameters.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 1 << 20
"""Allocations from this size up are mapped on their own, and unmapped when freed."""


@cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    return libc


def limit_heap(*, arenas: int = 2, mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """At most `arenas` malloc arenas from now on, and large blocks always mapped apart.

    Call it early in the process: arenas already made stay.
    """
    libc = _glibc()
    if libc is None:
        return False
    # mallopt answers 1 on success.
    arenas_set = libc.mallopt(M_ARENA_MAX, arenas) == 1
    threshold_set = libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1
    return bool(arenas_set and threshold_set)


def trim() -> bool:
    """Give the free memory of every arena back to the system (blocking, a few ms)."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
