"""The ways a notification leaves the service: push (FCM HTTP v1, APNs, or a log) and e-mail.

Each sender either returns (the push service or mail server took the message) or raises
`DeliveryFailed`, saying whether trying again can help and whether the device is gone for good
(an uninstalled app), so the delivery loop can retry, give up, or forget the device.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt

from intake_service.mail.sender import Mailer, MailError, compose
from shared.db import utcnow
from shared.retry import parse_retry_after

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """A notification ready to send, in its reader's language."""

    delivery_id: str
    title: str
    text: str
    data: dict[str, str] = field(default_factory=dict)
    """Small key-value payload for the app (report id, notification id, kind)."""
    collapse_key: str | None = None
    """Messages with the same key replace each other on the device (a report's updates)."""

    @property
    def push_text(self) -> str:
        """The text cut to fit a push (FCM and APNs take 4 KB in all); e-mail has it whole."""
        if len(self.text) <= PUSH_TEXT_MAX:
            return self.text
        return self.text[: PUSH_TEXT_MAX - 1].rstrip() + "…"


PUSH_TEXT_MAX = 1000
"""Characters of a push's text: up to 2 KB of Polish in UTF-8, well inside 4 KB."""


class DeliveryFailed(Exception):
    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        gone: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent or gone
        self.gone = gone
        self.retry_after = retry_after


class PushSender(Protocol):
    async def send(self, token: str, message: Outgoing) -> None: ...


class LogPushSender:
    """Stands in for a push service that is not configured: says what it would have sent."""

    async def send(self, token: str, message: Outgoing) -> None:
        # Neither the token nor the text: both identify the resident.
        logger.info("push.logged", extra={"delivery_id": message.delivery_id})


def _failure(response: httpx.Response, *, gone: bool) -> DeliveryFailed:
    retry_after = parse_retry_after(response.headers.get("retry-after"), utcnow())
    status = response.status_code
    reason = f"HTTP {status}: {response.text[:300]}"
    if gone:
        return DeliveryFailed(reason, gone=True)
    # 429 and 5xx pass; other 4xx mean the request itself is wrong and stays wrong.
    permanent = 400 <= status < 500 and status not in (401, 403, 408, 429)
    return DeliveryFailed(reason, permanent=permanent, retry_after=retry_after)


class FcmSender:
    """Firebase Cloud Messaging HTTP v1, authorised with a service account's OAuth 2 token.

    The service account file is the JSON Google issues (`client_email`, `private_key`,
    `project_id`, `token_uri`); the access token is obtained with a signed JWT assertion
    (RFC 7523) and kept until shortly before it expires.
    """

    SCOPE = "https://www.googleapis.com/auth/firebase.messaging"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        credentials_file: Path,
        base_url: str = "https://fcm.googleapis.com",
    ) -> None:
        account = json.loads(credentials_file.read_text())
        self._client = client
        self._email: str = account["client_email"]
        self._key: str = account["private_key"]
        self._token_uri: str = account.get(
            "token_uri", "https://oauth2.googleapis.com/token"
        )
        self._url = (
            f"{base_url.rstrip('/')}/v1/projects/{account['project_id']}/messages:send"
        )
        self._access_token: str | None = None
        self._expires = 0.0

    async def _token(self) -> str:
        if self._access_token and time.monotonic() < self._expires - 60:
            return self._access_token
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": self._email,
                "scope": self.SCOPE,
                "aud": self._token_uri,
                "iat": now,
                "exp": now + 3600,
            },
            self._key,
            algorithm="RS256",
        )
        response = await self._client.post(
            self._token_uri,
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            },
        )
        # Google refusing the assertion (a clock off, a key rotated) is the service's
        # state, not the message's: every push waits for it to be fixed, none is dead.
        if not response.is_success:
            raise DeliveryFailed(f"token: HTTP {response.status_code}")
        try:
            answer: dict[str, Any] = response.json()
            self._access_token = str(answer["access_token"])
            self._expires = time.monotonic() + float(answer.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryFailed(f"token: unexpected answer ({exc!r})") from exc
        return self._access_token

    async def send(self, token: str, message: Outgoing) -> None:
        body: dict[str, Any] = {
            "message": {
                "token": token,
                "notification": {"title": message.title, "body": message.push_text},
                "data": message.data,
            }
        }
        if message.collapse_key:
            body["message"]["android"] = {"collapse_key": message.collapse_key}
        try:
            response = await self._client.post(
                self._url,
                json=body,
                headers={"Authorization": f"Bearer {await self._token()}"},
            )
        except httpx.HTTPError as error:
            raise DeliveryFailed(type(error).__name__) from error
        if response.status_code == 401:
            self._access_token = None  # expired early: a fresh one next attempt
        if not response.is_success:
            raise _failure(response, gone=_fcm_token_gone(response))


def _fcm_token_gone(response: httpx.Response) -> bool:
    """FCM's answer for an app that was uninstalled: `UNREGISTERED` (HTTP 404)."""
    if response.status_code != 404:
        return False
    try:
        details = response.json()["error"].get("details", [])
    except (ValueError, KeyError, AttributeError):
        return False
    return any(
        isinstance(d, dict) and d.get("errorCode") == "UNREGISTERED" for d in details
    )


class ApnsSender:
    """Apple Push Notification service over HTTP/2 with a token-based (ES256 JWT) key."""

    TOKEN_LIFETIME = 50 * 60
    """Apple accepts a provider token for up to an hour and refuses one renewed too often."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        key_file: Path,
        key_id: str,
        team_id: str,
        topic: str,
        base_url: str = "https://api.push.apple.com",
    ) -> None:
        self._client = client
        self._key = key_file.read_text()
        self._key_id = key_id
        self._team_id = team_id
        self._topic = topic
        self._base_url = base_url.rstrip("/")
        self._token: str | None = None
        self._issued = 0.0

    def _provider_token(self) -> str:
        if self._token is None or time.monotonic() - self._issued > self.TOKEN_LIFETIME:
            self._token = jwt.encode(
                {"iss": self._team_id, "iat": int(time.time())},
                self._key,
                algorithm="ES256",
                headers={"kid": self._key_id},
            )
            self._issued = time.monotonic()
        return self._token

    async def send(self, token: str, message: Outgoing) -> None:
        headers = {
            "authorization": f"bearer {self._provider_token()}",
            "apns-topic": self._topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
        }
        if message.collapse_key:
            headers["apns-collapse-id"] = message.collapse_key[:64]
        body = {
            "aps": {"alert": {"title": message.title, "body": message.push_text}},
            **message.data,
        }
        try:
            response = await self._client.post(
                f"{self._base_url}/3/device/{token}", json=body, headers=headers
            )
        except httpx.HTTPError as error:
            raise DeliveryFailed(type(error).__name__) from error
        if not response.is_success:
            raise _failure(response, gone=_apns_token_gone(response))


def _apns_token_gone(response: httpx.Response) -> bool:
    if response.status_code == 410:
        return True
    try:
        reason = response.json().get("reason")
    except ValueError:
        return False
    return response.status_code == 400 and reason in (
        "BadDeviceToken",
        "DeviceTokenNotForTopic",
    )


@dataclass(frozen=True)
class EmailSender:
    mailer: Mailer
    sender: str

    async def send(self, address: str, message: Outgoing) -> None:
        mail = compose(
            sender=self.sender,
            to=address,
            subject=message.title,
            text=message.text,
            message_id=message.delivery_id,
        )
        try:
            await self.mailer.send(mail)
        except MailError as error:
            raise DeliveryFailed(str(error), permanent=error.permanent) from error
