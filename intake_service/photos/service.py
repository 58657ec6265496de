"""Turning uploads into stored photos, and reading them back."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.photos import imaging, repository
from intake_service.photos.exceptions import PhotoStoreUnavailable
from intake_service.photos.models import Photo, photo_key
from intake_service.photos.pool import PhotoPool
from intake_service.photos.processing import ProcessedPhoto, rejection
from intake_service.photos.storage import LinkedStorage, PhotoStorage
from intake_service.photos.upload import Upload
from shared import memory

logger = logging.getLogger(__name__)

CLEANUP_SECONDS = 10.0
"""How long a failed request waits for its stored photos to be deleted; what is left, the
daily retention deletes."""


@dataclass(frozen=True)
class NewPhoto:
    """A processed upload with the id it is stored under."""

    id: uuid.UUID
    processed: ProcessedPhoto

    def row(self, report_id: uuid.UUID, position: int, now: dt.datetime) -> Photo:
        processed = self.processed
        return Photo(
            id=self.id,
            report_id=report_id,
            position=position,
            content_type=processed.content_type,
            width=processed.width,
            height=processed.height,
            thumb_width=processed.thumb_width,
            thumb_height=processed.thumb_height,
            size_bytes=len(processed.image),
            sha256=processed.sha256,
            created_at=now,
        )


class PixelBudget:
    """Pixels being decoded at once, at most `capacity`: a few large photos take turns
    while many small ones go side by side. A decode's memory follows its pixels (a tiny
    PNG can unpack to half a gigabyte), not the count of decodes."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def hold(self, pixels: int) -> AsyncIterator[None]:
        # One photo alone may use it all.
        pixels = min(pixels, self.capacity)
        async with self._changed:
            await self._changed.wait_for(lambda: self.used + pixels <= self.capacity)
            self.used += pixels
        try:
            yield
        finally:
            async with self._changed:
                self.used -= pixels
                self._changed.notify_all()


class Photos:
    """Decoding (in worker processes, or threads without a pool; a bounded number and a
    bounded count of pixels at once) and the photo store."""

    def __init__(
        self,
        storage: PhotoStorage,
        *,
        concurrency: int,
        max_side: int,
        thumb_side: int,
        max_pixels: int,
        pool: PhotoPool | None = None,
    ) -> None:
        self.storage = storage
        self.pool = pool
        self.max_pixels = max_pixels
        self._slots = asyncio.Semaphore(concurrency)
        # As many pixels at once as the largest photo accepted has.
        self.budget = PixelBudget(max_pixels)
        self.waiting = 0
        """Photos received and waiting for their turn to be decoded."""
        self._cost = partial(
            imaging.decode_cost, max_side=max_side, max_pixels=max_pixels
        )
        self._options = {
            "max_side": max_side,
            "thumb_side": thumb_side,
            "max_pixels": max_pixels,
        }

    async def process(self, uploads: Sequence[Upload]) -> list[NewPhoto]:
        """Each upload decoded, checked and re-encoded; the first bad one is refused by name."""
        photos = []
        try:
            for upload in uploads:
                photos.append(
                    NewPhoto(id=uuid.uuid4(), processed=await self._process(upload))
                )
        finally:
            if self.pool is None:
                # The pixels were decoded here: give back what the heap keeps of them.
                await asyncio.to_thread(memory.trim)
        return photos

    async def _process(self, upload: Upload) -> ProcessedPhoto:
        # Only the header is read to know the cost; the bytes are read once it is our turn,
        # so photos waiting hold no memory but their spooled files.
        cost = await asyncio.to_thread(self._cost, upload.file.file)
        self.waiting += 1
        waited = False
        try:
            async with self.budget.hold(cost), self._slots:
                self.waiting -= 1
                waited = True
                data = await asyncio.to_thread(upload.read)
                try:
                    if self.pool is not None:
                        return await self.pool.render(data, **self._options)
                    return await asyncio.to_thread(
                        imaging.render, data, **self._options
                    )
                except imaging.Refusal as refusal:
                    raise rejection(refusal, max_pixels=self.max_pixels).named(
                        upload.filename
                    ) from None
        finally:
            if not waited:
                self.waiting -= 1

    async def store(self, photos: Sequence[NewPhoto]) -> None:
        """Each photo and thumbnail durably written; call before committing their rows.

        All or nothing: when one cannot be stored, those already stored are deleted before
        this raises (`PhotoStoreUnavailable` for a failing store), so a report that is not
        filed leaves no photo behind.
        """
        keys: list[str] = []
        try:
            for photo in photos:
                image = photo.processed
                for thumbnail, data in ((False, image.image), (True, image.thumbnail)):
                    # Listed before the put: a put that failed may have been stored all
                    # the same (its answer lost), and is deleted with the others.
                    keys.append(photo_key(photo.id, thumbnail=thumbnail))
                    await self.storage.put(keys[-1], data, image.content_type)
        except OSError as error:
            logger.warning(
                "photos.store_failed",
                extra={"error": type(error).__name__, "objects": len(keys)},
            )
            await self._remove(keys)
            raise PhotoStoreUnavailable() from error
        except BaseException:
            await self._remove(keys)
            raise

    async def discard(self, photos: Sequence[NewPhoto]) -> None:
        """Remove stored files whose rows were never committed (best effort: the request's
        own failure is the one it answers with)."""
        await self._remove(
            [
                photo_key(photo.id, thumbnail=thumbnail)
                for photo in photos
                for thumbnail in (False, True)
            ]
        )

    async def read(self, photo: Photo, *, thumbnail: bool) -> bytes | None:
        try:
            return await self.storage.get(photo_key(photo.id, thumbnail=thumbnail))
        except OSError as error:
            logger.warning(
                "photos.read_failed",
                extra={"photo_id": str(photo.id), "error": type(error).__name__},
            )
            raise PhotoStoreUnavailable() from error

    async def link(self, photo: Photo, *, thumbnail: bool) -> str | None:
        """A time-limited URL to fetch the photo from the store itself, when the store
        gives such links; None to serve its bytes."""
        if not isinstance(self.storage, LinkedStorage):
            return None
        try:
            return await self.storage.link(photo_key(photo.id, thumbnail=thumbnail))
        except OSError as error:
            raise PhotoStoreUnavailable() from error

    async def _remove(self, keys: Sequence[str]) -> None:
        """Delete the objects, all at once and within `CLEANUP_SECONDS`; failures are
        logged, not raised."""

        async def remove(key: str) -> bool:
            try:
                await self.storage.delete(key)
            except OSError:
                return False
            return True

        removed: list[bool] = []
        try:
            async with asyncio.timeout(CLEANUP_SECONDS):
                removed = await asyncio.gather(*(remove(key) for key in keys))
        except TimeoutError:
            pass
        if removed.count(True) < len(keys):
            logger.warning(
                "photos.cleanup_failed",
                extra={"objects": len(keys), "left": len(keys) - removed.count(True)},
            )


async def get_photo(session: AsyncSession, photo_id: uuid.UUID) -> Photo | None:
    return await repository.photo(session, photo_id)


SWEEP_BATCH = 500
"""Photo ids looked up in one transaction by the sweep."""


async def sweep_orphans(
    session: AsyncSession, storage: PhotoStorage, *, before: dt.datetime
) -> int:
    """Delete stored files written before `before` that no photo row refers to.

    A crash between writing a photo and committing its report leaves such a file (never a
    row without its file); this removes them. Returns how many files went.
    """
    by_id: dict[uuid.UUID, list[str]] = {}
    for key in await storage.older_than(before):
        name = key.rsplit("/", 1)[-1].removesuffix(".jpg").removesuffix("-thumb")
        try:
            by_id.setdefault(uuid.UUID(hex=name), []).append(key)
        except ValueError:
            continue
    # A batch of ids per short transaction: on SQLite each holds the write lock, which
    # the API must not wait for while a city's photos are walked.
    ids = list(by_id)
    orphans = []
    for start in range(0, len(ids), SWEEP_BATCH):
        batch = ids[start : start + SWEEP_BATCH]
        known = await repository.known_ids(session, batch)
        await session.commit()
        orphans += [key for i in batch if i not in known for key in by_id[i]]
    for key in orphans:
        await storage.delete(key)
    return len(orphans)
