"""Handing freed memory back to the system (glibc)."""

from __future__ import annotations

import sys

import pytest

from shared import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_heap_is_limited_and_trimmed_on_glibc():
    # Both calls only tune the allocator: the process goes on as before.
    assert memory.limit_heap(arenas=4) is True
    block = bytearray(32 << 20)
    del block
    assert memory.trim() is True
