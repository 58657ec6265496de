"""Argon2id password hashing, off the event loop and bounded in concurrency."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from intake_service.config import Settings

# Each hash takes its memory (64 MiB by default) and a CPU for ~0.2 s: more of them at once
# than cores only queues up memory, so they run on a pool of their own, one thread per core.
_pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


@lru_cache(maxsize=4)
def _hasher(memory_kib: int, passes: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(memory_cost=memory_kib, time_cost=passes),))


def hasher(settings: Settings) -> PasswordHash:
    """Argon2id at the costs the settings name."""
    return _hasher(settings.password_hash_memory_kib, settings.password_hash_passes)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHash) -> str:
    return hasher.hash("not-a-real-password-only-for-equal-timing")


async def hash_password(password: str, settings: Settings) -> str:
    return await asyncio.get_running_loop().run_in_executor(
        _pool, hasher(settings).hash, password
    )


def _verify(
    hasher: PasswordHash, password: str, password_hash: str | None
) -> tuple[bool, str | None]:
    if password_hash is None:
        # An unknown account costs the same time as a known one, so timing reveals nothing.
        hasher.verify(password, _dummy_hash(hasher))
        return False, None
    return hasher.verify_and_update(password, password_hash)


async def verify_password(
    password: str, password_hash: str | None, settings: Settings
) -> tuple[bool, str | None]:
    """Whether the password is right, and its new hash if the stored one was made with
    other costs than the settings' (the hash is then to be stored in its place)."""
    return await asyncio.get_running_loop().run_in_executor(
        _pool, _verify, hasher(settings), password, password_hash
    )
