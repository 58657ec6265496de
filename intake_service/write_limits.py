"""Limits on what residents write: reports and their photos, and ideas, survey answers,
"me too" and feedback together.

Each is counted per client address (IPv6 per /64), and per account when signed in or else
per device id (`X-Device-Id`) when the app sends one; the first limit used up refuses the
request with 429 before any of its work is done. The counters live in the database, so
replicas share them. An install id is the app's own word: rotating it escapes only its own
limit, never the address's.

A client address whose limit is used up is also remembered in the process (`Refusals`) until
its window ends, and `FloodGuard` refuses its next requests of that kind before routing,
reading or the database, answering only after `REFUSAL_HOLD_SECONDS`: a client sending as
fast as it is answered then gets one refusal a second per connection, and the event loop
stays free for everyone else (answered at once, 64 connections sent thousands a second).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import re
from typing import Any

from fastapi import Depends, Request
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Receive, Scope, Send

from intake_service.accounts.dependencies import OptionalAccountDep
from intake_service.accounts.models import Account
from intake_service.config import Settings
from intake_service.deps import ClientDep, SettingsDep
from intake_service.throttling import service as throttling
from intake_service.throttling.exceptions import TooManyAttempts, TooManyWrites
from intake_service.throttling.service import Limit, client_subject, limit
from shared.db import utcnow
from shared.deps import SessionDep
from shared.errors import problem_response, request_language

_DEVICE_ID = re.compile(r"[A-Za-z0-9-]{8,100}")


class Writes(enum.StrEnum):
    REPORTS = "reports"
    PHOTOS = "photos"
    OTHER = "writes"  # ideas, survey answers, "me too", feedback


REFUSAL_HOLD_SECONDS = 1.0

_OTHER_WRITES = re.compile(
    r"/v1/(ideas|reports/[^/]+/(supporters|feedback)|surveys/[^/]+/responses)/?"
)


def kind_of(method: str, path: str) -> Writes | None:
    """Which limit a request counts against (photos are counted once read)."""
    if method != "POST":
        return None
    if path.rstrip("/") == "/v1/reports":
        return Writes.REPORTS
    return Writes.OTHER if _OTHER_WRITES.fullmatch(path) else None


class Refusals:
    """Client addresses (as `client_subject` names them) whose limit of a kind is used up,
    and until when, in this process's memory."""

    MAX_ENTRIES = 100_000
    """Beyond this many, the ended entries are dropped (addresses rotated by a flood)."""

    def __init__(self) -> None:
        self._until: dict[tuple[Writes, str], dt.datetime] = {}

    def block(self, kind: Writes, subject: str, seconds: int) -> None:
        if len(self._until) >= self.MAX_ENTRIES:
            now = utcnow()
            self._until = {k: v for k, v in self._until.items() if v > now}
            if len(self._until) >= self.MAX_ENTRIES:
                return  # the database still refuses; only the shortcut is skipped
        self._until[(kind, subject)] = utcnow() + dt.timedelta(seconds=seconds)

    def wait(self, kind: Writes, subject: str) -> int | None:
        """Seconds until the subject may write again, or None."""
        until = self._until.get((kind, subject))
        if until is None:
            return None
        left = (until - utcnow()).total_seconds()
        if left <= 0:
            del self._until[(kind, subject)]
            return None
        return max(1, int(left + 0.999))


class FloodGuard:
    """429 before routing for a client address `Refusals` holds for the request's kind; and
    at most `AT_ONCE` writes of one address at a time, the others waiting their turn, so
    that one client's burst shares the process with everyone else's requests."""

    AT_ONCE = 2

    def __init__(self, app: ASGIApp, refusals: Refusals) -> None:
        self.app = app
        self.refusals = refusals
        self._turns: dict[str, tuple[asyncio.Semaphore, int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client:
            kind = kind_of(scope["method"], scope["path"])
            if kind is not None:
                subject = client_subject(client[0])
                wait = self.refusals.wait(kind, subject)
                if wait is not None:
                    await asyncio.sleep(REFUSAL_HOLD_SECONDS)
                    refused = TooManyWrites(retry_after=wait)
                    lang = request_language(StarletteRequest(scope))
                    response = problem_response(
                        refused.status_code, refused.body(lang), refused.headers()
                    )
                    await response(scope, receive, send)
                    return
                await self._in_turn(subject, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _in_turn(
        self, subject: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        turns, waiting = self._turns.get(subject, (asyncio.Semaphore(self.AT_ONCE), 0))
        self._turns[subject] = (turns, waiting + 1)
        try:
            async with turns:
                await self.app(scope, receive, send)
        finally:
            turns, waiting = self._turns[subject]
            if waiting == 1:
                del self._turns[subject]
            else:
                self._turns[subject] = (turns, waiting - 1)


def _maxima(settings: Settings, kind: Writes) -> tuple[int, int]:
    """(per client address, per account or device)."""
    if kind is Writes.REPORTS:
        return (
            settings.throttle_reports_per_client,
            settings.throttle_reports_per_account,
        )
    if kind is Writes.PHOTOS:
        # Photos come with reports, which the account's limit counts already.
        return settings.throttle_photos_per_client, 0
    return settings.throttle_writes_per_client, settings.throttle_writes_per_account


def write_limits(
    settings: Settings,
    kind: Writes,
    *,
    client: str,
    account: Account | None,
    device_id: str | None,
) -> list[Limit]:
    per_client, per_author = _maxima(settings, kind)

    def of(scope: str, subject: str, maximum: int) -> Limit:
        return limit(
            settings.secret_key.get_secret_value(),
            f"{kind.value}-{scope}",
            subject,
            maximum=maximum,
            window_seconds=settings.throttle_writes_window_seconds,
        )

    limits = [of("client", client_subject(client), per_client)]
    if per_author:
        if account is not None:
            limits.append(of("account", str(account.id), per_author))
        elif device_id is not None and _DEVICE_ID.fullmatch(device_id):
            limits.append(of("device", device_id, per_author))
    return limits


async def admit(session: SessionDep, limits: list[Limit], *, amount: int = 1) -> None:
    """Count the request against the limits, or refuse it (TooManyWrites) if one is used
    up. A refused request is only read, never counted: a flood costs one look each."""
    try:
        await throttling.check(session, *limits)
        await throttling.hit(session, *limits, amount=amount)
    except TooManyAttempts as used_up:
        raise TooManyWrites(retry_after=used_up.retry_after) from None


def limited(kind: Writes) -> Any:
    """A route dependency that admits the request under `kind`'s limits."""

    async def dependency(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        client: ClientDep,
        account: OptionalAccountDep,
    ) -> None:
        limits = write_limits(
            settings,
            kind,
            client=client,
            account=account,
            device_id=request.headers.get("x-device-id"),
        )
        try:
            await admit(session, limits)
        except TooManyWrites:
            # Whether the address's own limit is used up, to refuse its next ones early.
            try:
                await throttling.check(session, limits[0])
            except TooManyAttempts as used_up:
                refusals: Refusals = request.app.state.write_refusals
                refusals.block(kind, client_subject(client), used_up.retry_after)
            raise

    return Depends(dependency)


def photo_limits(
    settings: Settings, client: str, account: Account | None
) -> list[Limit]:
    return write_limits(
        settings, Writes.PHOTOS, client=client, account=account, device_id=None
    )
