"""Turning uploads into stored photos (their faces blurred), and reading them back."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake_service.config import Settings
from intake_service.photos import centerface, imaging, repository
from intake_service.photos.exceptions import (
    PhotoNotFound,
    PhotoOriginalNotKept,
    PhotoStoreUnavailable,
)
from intake_service.photos.models import Photo, original_key, photo_key
from intake_service.photos.pool import PhotoPool
from intake_service.photos.processing import ProcessedPhoto, rejection
from intake_service.photos.storage import LinkedStorage, PhotoStorage, photo_storage
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
            faces_blurred=processed.faces,
        )

    def files(self) -> list[tuple[str, bytes]]:
        """What the store keeps of it, by key: the photo, its thumbnail, and its unblurred
        original when one is kept."""
        processed = self.processed
        files = [
            (photo_key(self.id), processed.image),
            (photo_key(self.id, thumbnail=True), processed.thumbnail),
        ]
        if processed.original is not None:
            files.append((original_key(self.id), processed.original))
        return files


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
    bounded count of pixels at once), blurring faces, and the photo store.

    Faces are blurred with a `face_threshold` (None: not at all); `keep_originals` keeps
    each blurred photo's unblurred copy in the store too, for operators only.
    """

    def __init__(
        self,
        storage: PhotoStorage,
        *,
        concurrency: int,
        max_side: int,
        thumb_side: int,
        max_pixels: int,
        pool: PhotoPool | None = None,
        face_threshold: float | None = None,
        keep_originals: bool = False,
    ) -> None:
        if face_threshold is not None and (missing := centerface.available()):
            # Refused at the start, rather than storing photos with faces in them.
            raise RuntimeError(f"blurring faces in photos needs {missing}")
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
        # `imaging.render`'s keyword arguments.
        self._options: dict[str, Any] = {
            "max_side": max_side,
            "thumb_side": thumb_side,
            "max_pixels": max_pixels,
            "face_threshold": face_threshold,
            "keep_original": keep_originals,
        }

    async def close(self) -> None:
        """Stop the worker processes and close the store."""
        if self.pool is not None:
            await self.pool.close()
        await self.storage.close()

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
                for key, data in photo.files():
                    # Listed before the put: a put that failed may have been stored all
                    # the same (its answer lost), and is deleted with the others.
                    keys.append(key)
                    await self.storage.put(key, data, photo.processed.content_type)
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
        await self._remove([key for photo in photos for key, _ in photo.files()])

    async def read(self, photo: Photo, *, thumbnail: bool) -> bytes | None:
        return await self._get(photo, photo_key(photo.id, thumbnail=thumbnail))

    async def read_original(self, photo: Photo) -> bytes | None:
        """The photo before its faces were blurred; None when none is kept."""
        return await self._get(photo, original_key(photo.id))

    async def _get(self, photo: Photo, key: str) -> bytes | None:
        try:
            return await self.storage.get(key)
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


def configured_photos(settings: Settings, *, concurrency: int) -> Photos:
    """Photos made as the settings say (limits, blurring, originals), decoded in a pool of
    `concurrency` worker processes; the caller closes `pool` and `storage` at the end.
    Uploads and Open311's fetched photos are both made by one of these."""
    pool = PhotoPool(
        concurrency,
        idle_seconds=settings.photo_worker_idle_seconds,
        timeout=settings.photo_timeout_seconds,
    )
    return Photos(
        photo_storage(settings),
        concurrency=concurrency,
        max_side=settings.photo_max_side,
        thumb_side=settings.photo_thumb_side,
        max_pixels=settings.photo_max_megapixels * 1_000_000,
        pool=pool,
        face_threshold=settings.face_threshold(),
        keep_originals=settings.photo_keep_originals,
    )


async def get_photo(session: AsyncSession, photo_id: uuid.UUID) -> Photo | None:
    return await repository.photo(session, photo_id)


async def read_original(
    session: AsyncSession, photos: Photos, photo_id: uuid.UUID
) -> tuple[Photo, bytes]:
    """The photo and its bytes before its faces were blurred; `PhotoNotFound` when there
    is no such photo, `PhotoOriginalNotKept` when no unblurred copy of it is kept."""
    photo = await repository.photo(session, photo_id)
    # The file is read with no transaction open.
    await session.commit()
    if photo is None:
        raise PhotoNotFound()
    data = await photos.read_original(photo)
    if data is None:
        raise PhotoOriginalNotKept()
    return photo, data


SWEEP_BATCH = 500
"""Photo ids looked up in one transaction by the sweep."""


async def sweep_orphans(
    session: AsyncSession, storage: PhotoStorage, *, before: dt.datetime
) -> int:
    """Delete stored files written before `before` that no photo row refers to.

    A crash between writing a photo and committing its report leaves such a file (never a
    row without its file); this removes them, unblurred originals included, as it will a
    photo's files once its row is gone. Returns how many files went.
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
