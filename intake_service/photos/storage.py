"""Where processed photos are kept: the storage protocol, a crash-safe local-disk store, and
the choice between it and the S3 store (`intake_service.photos.s3`) by the settings."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from intake_service.config import Settings

_KEY = re.compile(r"[A-Za-z0-9_./-]{1,512}")

PROBE_FOLDER = "probes"
"""Reserved for `check`'s probe objects; photos live under `reports/`."""


class StorageUnavailable(OSError):
    """The store cannot do what was asked just now (unreachable, timed out, refused); the
    same request may succeed later. An OSError, as the local disk's own failures are, so
    that one `except OSError` covers every store."""


class PhotoStorage(Protocol):
    """A key-value store of photo bytes. `put` returns only once the bytes are durable;
    failures are OSErrors (`StorageUnavailable` from a remote store)."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def older_than(self, moment: dt.datetime) -> list[str]:
        """Keys of everything stored before `moment` (to find files nothing refers to)."""
        ...

    async def check(self) -> None:
        """Return when the store can take a photo now; raise (an OSError) when it cannot."""
        ...

    async def close(self) -> None:
        """Let go of connections (at shutdown)."""
        ...


@runtime_checkable
class LinkedStorage(Protocol):
    """A store whose objects clients may fetch from it directly."""

    async def link(self, key: str) -> str | None:
        """A time-limited URL of the object, or None to have intake pass the bytes on."""
        ...


def photo_storage(settings: Settings) -> PhotoStorage:
    """The store the settings choose: the local folder unless `photo_store` is `s3`."""
    if settings.photo_store == "s3":
        # Imported here: a process on the local folder never loads the S3 client.
        from intake_service.photos.s3 import S3Storage

        return S3Storage.from_settings(settings)
    assert settings.photo_dir is not None
    return LocalDiskStorage(settings.photo_dir)


def check_key(key: str) -> str:
    """The key, if it is one of a store's keys; ValueError for one that could leave the
    store's root or folder (`..`, a leading `/`, empty folder names, other characters)."""
    if not _KEY.fullmatch(key) or key.startswith("/") or ".." in key:
        raise ValueError(f"invalid photo key: {key!r}")
    if any(part in ("", ".") for part in key.split("/")):
        raise ValueError(f"invalid photo key: {key!r}")
    return key


async def probe(store: PhotoStorage) -> None:
    """Write a small object, read it back and delete it: what `check` does on any store.

    Each probe has a key of its own, so that hosts checking at once do not read each other's
    probes. One left behind (a check cut short) is named like a photo no report has, and the
    daily retention deletes it.
    """
    key = f"{PROBE_FOLDER}/{uuid.uuid4().hex}.jpg"
    payload = uuid.uuid4().bytes
    await store.put(key, payload, "application/octet-stream")
    try:
        read = await store.get(key)
    except Exception:
        # The read's failure is the one to tell.
        with contextlib.suppress(Exception):
            await store.delete(key)
        raise
    await store.delete(key)
    if read != payload:
        raise StorageUnavailable(
            "the probe object read back differs from what was written"
        )


class LocalDiskStorage:
    """Photos as files under `root`, sharded by the first two characters of the file name.

    A key `reports/3f2a….jpg` is stored at `root/reports/3f/3f2a….jpg`, so no directory
    collects every photo of the city.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, key: str) -> Path:
        """The file of a key; ValueError for a key that could leave `root`."""
        *folders, name = check_key(key).split("/")
        return self.root.joinpath(*folders, name[:2], name)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        # The type is not kept: the service stores JPEG only, named by its extension.
        path = self.path_for(key)
        await asyncio.to_thread(self._write, path, data)

    async def get(self, key: str) -> bytes | None:
        path = self.path_for(key)
        return await asyncio.to_thread(self._read, path)

    async def delete(self, key: str) -> None:
        # No directory fsync: a deletion lost in a crash leaves an orphan, which the
        # daily `python -m intake_service retention` removes.
        path = self.path_for(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def older_than(self, moment: dt.datetime) -> list[str]:
        return await asyncio.to_thread(self._older_than, moment.timestamp())

    async def check(self) -> None:
        await probe(self)

    async def close(self) -> None:
        """Nothing to let go of: each call opens and closes its own file."""

    def _older_than(self, timestamp: float) -> list[str]:
        keys = []
        for path in self.root.rglob("*.jpg"):
            if path.stat().st_mtime < timestamp:
                # root/<folders>/<shard>/<name>: the key leaves the shard out.
                folders = path.parent.parent.relative_to(self.root).parts
                keys.append("/".join((*folders, path.name)))
        return keys

    def _write(self, path: Path, data: bytes) -> None:
        self._make_folders(path.parent)
        # mkstemp creates the file readable by this user only: photos are personal data.
        fd, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            # Readers see the old file or the whole new one, never a half-written one.
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        # The rename lives in the directory; until that is synced a crash can undo it.
        _fsync_folder(path.parent)

    def _make_folders(self, folder: Path) -> None:
        """Create missing folders, syncing each parent so a new folder survives a crash."""
        missing: list[Path] = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for new in reversed(missing):
            new.mkdir(exist_ok=True)
            _fsync_folder(new.parent)

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
