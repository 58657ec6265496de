"""Limits on what residents write: reports and their photos, and ideas, survey answers,
"me too" and feedback together.

Each is counted per client address (IPv6 per /64), and per account when signed in or else
per device id (`X-Device-Id`) when the app sends one; the first limit used up refuses the
request with 429 before any of its work is done. The counters live in the database, so
replicas share them. An install id is the app's own word: rotating it escapes only its own
limit, never the address's.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from fastapi import Depends, Request

from intake_service.accounts.models import Account
from intake_service.config import Settings
from intake_service.deps import ClientDep, OptionalAccountDep, SettingsDep
from intake_service.throttling import service as throttling
from intake_service.throttling.exceptions import TooManyAttempts, TooManyWrites
from intake_service.throttling.service import Limit, client_subject, limit
from shared.deps import SessionDep

_DEVICE_ID = re.compile(r"[A-Za-z0-9-]{8,100}")


class Writes(enum.StrEnum):
    REPORTS = "reports"
    PHOTOS = "photos"
    OTHER = "writes"  # ideas, survey answers, "me too", feedback


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
        await admit(session, limits)

    return Depends(dependency)


def photo_limits(
    settings: Settings, client: str, account: Account | None
) -> list[Limit]:
    return write_limits(
        settings, Writes.PHOTOS, client=client, account=account, device_id=None
    )
