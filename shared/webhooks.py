"""FastAPI dependency that checks a Standard Webhooks signature before anything is parsed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from pydantic import ValidationError

from shared.contracts import Envelope
from shared.errors import AppError, BadSignature
from shared.guards import MAX_SIGNED_BODY_BYTES, read_body
from shared.i18n import N_
from shared.signing import SignatureError, Verifier, has_signature_headers


class MissingSignature(AppError):
    status_code = 400
    code = "missing-signature"
    title = N_("Signature headers missing")
    detail = N_("Required headers: webhook-id, webhook-timestamp, webhook-signature.")


@dataclass(frozen=True)
class SignedMessage:
    id: str
    body: bytes


def signed_message(
    verifier: str, *, max_bytes: int = MAX_SIGNED_BODY_BYTES
) -> Callable[[Request], Awaitable[SignedMessage]]:
    """A dependency that yields the verified body and its message id.

    `verifier` names the `Verifier` in `app.state`. 400 when the signature headers are
    missing, 401 when no accepted secret signed the body, 413 past `max_bytes` (64 KiB
    unless said).
    """

    async def dependency(request: Request) -> SignedMessage:
        if not has_signature_headers(request.headers):
            raise MissingSignature()
        body = await read_body(request, max_bytes)
        try:
            checker: Verifier = getattr(request.app.state, verifier)
            message_id = checker.verify(bytes(body), request.headers)
        except SignatureError as exc:
            raise BadSignature() from exc
        return SignedMessage(id=message_id, body=bytes(body))

    return dependency


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/$defs/")
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inlined(defs[name] | rest, defs)
        return {k: _inlined(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inlined(item, defs) for item in node]
    return node


def envelope_body(example: Envelope) -> dict[str, Any]:
    """The OpenAPI `requestBody` of an endpoint that takes a signed envelope: the body is
    read as the signed bytes before it is parsed, so FastAPI cannot show it by itself."""
    schema = Envelope.model_json_schema()
    inlined = _inlined(schema, schema.pop("$defs", {}))
    # Its mapping names the `$defs` inlined here; each event's `type` is a const anyway.
    inlined["properties"]["event"].pop("discriminator", None)
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": inlined,
                "example": example.model_dump(mode="json"),
            }
        },
    }


class InvalidEvent(AppError):
    status_code = 422
    code = "invalid-event"
    title = N_("Invalid event")
    detail = N_("The body is not an event envelope of a known version: {reason}")


def parse_envelope(body: bytes) -> Envelope:
    try:
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        reason = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        raise InvalidEvent(reason=reason) from exc
