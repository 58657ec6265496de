"""Standard Webhooks signing and verification for every signed call between our parts."""

from __future__ import annotations

import datetime as dt
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
