"""Where processed photos are kept: the storage protocol and a crash-safe local-disk store."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[A-Za-z0-9_./-]{1,512}")


class PhotoStorage(Protocol):
    """A key-value store of photo bytes. `put` returns only once the bytes are durable."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def older_than(self, moment: dt.datetime) -> list[str]:
        """Keys of everything stored before `moment` (to find files nothing refers to)."""
        ...


class LocalDiskStorage:
    """Photos as files under `root`, sharded by the first two characters of the file name.

    A key `reports/3f2a….jpg` is stored at `root/reports/3f/3f2a….jpg`, so no directory
    collects every photo of the city.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, key: str) -> Path:
        """The file of a key; ValueError for a key that could leave `root`."""
        if not _KEY.fullmatch(key) or key.startswith("/") or ".." in key:
            raise ValueError(f"invalid photo key: {key!r}")
        *folders, name = key.split("/")
        if any(part in ("", ".") for part in (*folders, name)):
            raise ValueError(f"invalid photo key: {key!r}")
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
