"""The fetch loop: brings the photos of Open311 requests' `media_url`s in, with retries.

A link is claimed under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers on
several hosts never fetch one link twice; a worker that dies leaves it to be claimed again
when the lease ends), fetched with no transaction open through the checks of `media`
(public addresses only unless the settings allow private ones, no redirects, a time limit
and the size limit) and the photo pipeline of an upload, then attached to its report.

A host that does not answer, or answers with a server error, is tried again with
exponential backoff and full jitter until `open311_media_attempts` are spent; a missing
photo, a redirect, a private address, a file too large or not a photo is given up at once.
A given-up link stays on the report for operators (`GET /v1/operator/open311/media`); the
report itself lost nothing and went to the CRM (see `media_queue`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake_service.config import Settings
from intake_service.open311 import media_repository as repository
from intake_service.open311.media import MediaNotFetched, fetch_media
from intake_service.open311.media_queue import MEDIA
from intake_service.open311.models import MediaState
from intake_service.photos.exceptions import PhotoRejected, PhotoStoreUnavailable
from intake_service.photos.service import NewPhoto, Photos, configured_photos
from shared.background import for_each_concurrently
from shared.db import utcnow
from shared.retry import Backoff, LeaseLost, under_lease
from shared.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    report_id: uuid.UUID
    url: str
    attempts: int
    token: uuid.UUID
    failure: str | None
    """Why the attempt before failed, if one did."""


class _Failed(Exception):
    """An attempt that did not bring the photo: why (a key of `media.REASONS`), the detail
    for operators, and whether another attempt may."""

    def __init__(self, failure: str, error: str, *, retry: bool) -> None:
        super().__init__(error)
        self.failure, self.error, self.retry = failure, error, retry


class MediaFetcher:
    """One step claims the due links and tries each once, side by side."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        photos: Photos,
        settings: Settings,
        wakeup: asyncio.Event | None = None,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        batch_size: int = 10,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._photos = photos
        self._max_bytes = settings.photo_max_bytes
        self._seconds = settings.open311_media_timeout_seconds
        self._allow_private = settings.open311_media_allow_private_hosts
        self._attempts = settings.open311_media_attempts
        self._backoff = Backoff(
            base=settings.open311_media_retry_base_seconds,
            cap=settings.open311_media_retry_cap_seconds,
        )
        self._wakeup = wakeup
        self._lease = lease
        self.batch_size = batch_size
        """Most links one step takes (and fetches at once)."""

    async def run_once(self) -> int:
        """Try the due links; returns how many were claimed."""
        claimed = await self._claim()
        await for_each_concurrently(claimed, self._attempt)
        return len(claimed)

    async def _claim(self) -> list[_Claimed]:
        now = utcnow()
        token = uuid.uuid4()
        async with self._sessionmaker() as session:
            rows = await repository.due(session, now, self.batch_size)
            claimed = []
            for row in rows:
                row.state = MediaState.IN_FLIGHT
                row.lease_until = now + self._lease
                row.claim_token = token
                row.attempts += 1
                claimed.append(
                    _Claimed(
                        row.id, row.report_id, row.url, row.attempts, token, row.failure
                    )
                )
            await session.commit()
        return claimed

    async def _attempt(self, link: _Claimed) -> None:
        if link.attempts > self._attempts:
            # Claimed again after attempts that never ended (their worker died): given up.
            await self._give_up(
                link,
                _Failed(link.failure or "internal", "no attempt ended", retry=False),
            )
            return
        try:
            photo = await under_lease(
                lambda: self._fetch(link.url),
                renew=lambda: self._renew(link),
                lease=self._lease,
            )
        except LeaseLost as exc:
            logger.warning(
                "open311.media_lease_lost",
                extra={"media_id": str(link.id), "error": str(exc)},
            )
            return
        except _Failed as failure:
            await self._failed(link, failure)
            return
        except Exception as exc:
            # A surprise (a photo worker that cannot start, a full disk) is tried again
            # like a host that did not answer, rather than left claimed for good.
            logger.exception("open311.media_failed", extra={"media_id": str(link.id)})
            await self._failed(
                link, _Failed("internal", type(exc).__name__, retry=True)
            )
            return
        await self._attach(link, photo)

    async def _fetch(self, url: str) -> NewPhoto:
        """The photo at `url`, checked, cleaned and stored; `_Failed` says why not."""
        try:
            upload = await fetch_media(
                url,
                max_bytes=self._max_bytes,
                seconds=self._seconds,
                allow_private=self._allow_private,
            )
        except MediaNotFetched as refusal:
            raise _Failed(
                refusal.kind, refusal.technical, retry=refusal.retry
            ) from None
        try:
            [photo] = await self._photos.process([upload])
        except PhotoRejected as rejection:
            raise _Failed("not_a_photo", rejection.code, retry=False) from None
        finally:
            await upload.file.close()
        try:
            await self._photos.store([photo])
        except PhotoStoreUnavailable as unavailable:
            raise _Failed("store", unavailable.code, retry=True) from None
        return photo

    async def _renew(self, link: _Claimed) -> bool:
        async with self._sessionmaker() as session:
            held = await repository.renew(
                session, link.id, link.token, utcnow() + self._lease
            )
            await session.commit()
        return held

    async def _attach(self, link: _Claimed, photo: NewPhoto) -> None:
        """The photo on the report, if the claim is still ours; its files go otherwise."""
        committing = False
        try:
            async with self._sessionmaker() as session:
                media = await repository.claimed(session, link.id, link.token)
                if media is None:
                    await self._photos.discard([photo])
                    logger.warning(
                        "open311.media_lease_lost", extra={"media_id": str(link.id)}
                    )
                    return
                await repository.attach(session, media, photo, utcnow())
                committing = True
                await session.commit()
        except BaseException:
            # After a failed commit the row may be stored all the same: keep the files then
            # (the daily sweep removes them if not).
            if not committing:
                await self._photos.discard([photo])
            raise
        logger.info(
            "open311.media_fetched",
            extra={"report_id": str(link.report_id), "attempt": link.attempts},
        )

    async def _failed(self, link: _Claimed, failure: _Failed) -> None:
        if not failure.retry or link.attempts >= self._attempts:
            await self._give_up(link, failure)
            return
        delay = self._backoff.delay(link.attempts)
        async with self._sessionmaker() as session:
            await repository.retry_later(
                session,
                link.id,
                link.token,
                at=utcnow() + dt.timedelta(seconds=delay),
                failure=failure.failure,
                error=failure.error,
            )
            await session.commit()
        if self._wakeup is not None:
            asyncio.get_running_loop().call_later(delay, self._wakeup.set)
        logger.info(
            "open311.media_retry",
            extra={
                "media_id": str(link.id),
                "attempt": link.attempts,
                "error": failure.error,
            },
        )

    async def _give_up(self, link: _Claimed, failure: _Failed) -> None:
        async with self._sessionmaker() as session:
            media = await repository.claimed(session, link.id, link.token)
            if media is None:
                return
            await repository.give_up(
                session, media, utcnow(), failure=failure.failure, error=failure.error
            )
            await session.commit()
        logger.warning(
            "open311.media_given_up",
            extra={
                "report_id": str(link.report_id),
                "attempt": link.attempts,
                "error": failure.error,
            },
        )


def start_media_fetch(runtime: Runtime, settings: Settings) -> None:
    """Start the fetch loop in `runtime`, woken by a filed request with links, decoding
    in a photo worker process of its own (one photo at a time: it is never in a hurry).

    Its photos are made as an upload's (`configured_photos`): the same limits, faces
    blurred alike, originals kept alike."""
    photos = configured_photos(settings, concurrency=1)
    runtime.closing.append(photos.close)
    wakeup = runtime.wakeups.event(MEDIA)
    fetcher = MediaFetcher(
        sessionmaker=runtime.sessionmaker,
        photos=photos,
        settings=settings,
        wakeup=wakeup,
    )
    runtime.loops.start(
        "intake.open311_media",
        fetcher.run_once,
        wakeup=wakeup,
        interval=settings.poll_seconds,
        batch=fetcher.batch_size,
    )
