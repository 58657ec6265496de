"""Argon2id password hashing, off the event loop and bounded in concurrency."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from pwdlib import PasswordHash

# Each hash takes ~64 MiB and a CPU for ~0.2 s: more of them at once than cores only queues up
# memory, so they run on a pool of their own, one thread per core.
_pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password-only-for-equal-timing")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(
        _pool, _hasher().hash, password
    )


def _verify(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    if password_hash is None:
        # An unknown account costs the same time as a known one, so timing reveals nothing.
        _hasher().verify(password, _dummy_hash())
        return False, None
    return _hasher().verify_and_update(password, password_hash)


async def verify_password(
    password: str, password_hash: str | None
) -> tuple[bool, str | None]:
    """Whether the password is right, and its new hash if the stored one's parameters are
    outdated (the hash is then to be stored in its place)."""
    return await asyncio.get_running_loop().run_in_executor(
        _pool, _verify, password, password_hash
    )
