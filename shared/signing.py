"""Standard Webhooks signing and verification for every signed call between our parts, and
time-limited signed links (photos handed to CRMs)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class SignatureError(Exception):
    """The request is not signed by any of the accepted secrets (or is too old or too new)."""


class Signer:
    def __init__(self, secret: str) -> None:
        self._webhook = Webhook(secret)

    def headers(
        self, msg_id: str, body: bytes, *, now: dt.datetime | None = None
    ) -> dict[str, str]:
        timestamp = now or dt.datetime.now(dt.UTC)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": self._webhook.sign(msg_id, timestamp, body.decode()),
        }


class Verifier:
    """Accepts a body signed with any of several secrets, so a secret can be rotated live."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("a verifier needs at least one secret")
        self._webhooks = [Webhook(secret) for secret in secrets]

    def verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        """Check the signature; returns the message id (`webhook-id`)."""
        wanted = {
            name: headers.get(name, "")
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        try:
            text = body.decode()
        except UnicodeDecodeError as exc:
            raise SignatureError("body is not UTF-8") from exc
        for webhook in self._webhooks:
            try:
                webhook.verify(text, wanted, json_parse=False)
            except (WebhookVerificationError, ValueError):
                continue
            return wanted["webhook-id"]
        raise SignatureError("no valid signature")


def has_signature_headers(headers: Mapping[str, str]) -> bool:
    return all(
        headers.get(n) for n in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )


# The Unix seconds a link's expiry can be: the ones a date-time can hold.
_LINK_EXPIRY_MIN = 0
_LINK_EXPIRY_MAX = int(dt.datetime.max.replace(tzinfo=dt.UTC).timestamp())


class UrlSigner:
    """Time-limited links: an HMAC-SHA256 of the path and its expiry, in the query.

    The first secret signs; every secret verifies, so the secret can be rotated without
    breaking links already handed out (keep the old one for as long as links live).
    """

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets or not all(secrets):
            raise ValueError("a URL signer needs at least one non-empty secret")
        self._keys = [secret.encode() for secret in secrets]

    @staticmethod
    def _mac(key: bytes, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def query(
        self, path: str, *, ttl: dt.timedelta, now: dt.datetime | None = None
    ) -> dict[str, str]:
        """`expires` (Unix seconds) and `signature` to append to `path`'s URL."""
        expires = int(((now or dt.datetime.now(dt.UTC)) + ttl).timestamp())
        return {
            "expires": str(expires),
            "signature": self._mac(self._keys[0], path, expires),
        }

    def verify(
        self,
        path: str,
        *,
        expires: int,
        signature: str,
        now: dt.datetime | None = None,
    ) -> bool:
        """True for a link signed with one of the secrets that has not expired yet.

        Any other value is simply not a valid link: an expiry that has passed or lies
        beyond any date (no link is signed for that long), a signature that is not the
        hex text of one.
        """
        if not _LINK_EXPIRY_MIN <= expires <= _LINK_EXPIRY_MAX:
            return False
        if expires < (now or dt.datetime.now(dt.UTC)).timestamp():
            return False
        if not signature.isascii():
            return False  # never a hex MAC (and compare_digest takes only ASCII text)
        return any(
            hmac.compare_digest(self._mac(key, path, expires), signature)
            for key in self._keys
        )


def photo_link_path(photo_id: object) -> str:
    """The path of intake's signed photo link; its signature covers this path."""
    return f"/v1/photos/{photo_id}/signed"
