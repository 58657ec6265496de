"""A local HTTP server standing in for FCM (OAuth token + HTTP v1 send) and APNs.

It checks what the real services check: the FCM access token comes from a JWT assertion
signed with the service account's key, and the APNs provider token is an ES256 JWT signed with
the team's key. Tokens listed in `gone` are answered as an uninstalled app; `failures` makes
the next sends to a token fail with a status (and `Retry-After`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCESS_TOKEN = "ya29.stand-in-access-token"


@dataclass
class Received:
    service: str
    token: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class PushService:
    url: str
    fcm_credentials: Path
    apns_key: Path
    received: list[Received] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    failures: dict[str, list[int]] = field(default_factory=dict)
    token_failures: list[int] = field(default_factory=list)
    """Statuses the OAuth token endpoint answers next (e.g. 400 `invalid_grant`)."""

    def to(self, token: str) -> list[Received]:
        return [r for r in self.received if r.token == token]


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@functools.cache
def _keys() -> tuple[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]:
    """Made once per test run: an RSA key takes a moment to generate."""
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP256R1()),
    )


async def push_service(folder: Path) -> AsyncIterator[PushService]:
    rsa_key, ec_key = _keys()
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    credentials = folder / "fcm-service-account.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "mam-test",
                "client_email": "push@mam-test.iam.gserviceaccount.com",
                "private_key": _pem(rsa_key),
                "token_uri": f"{url}/token",
            }
        )
    )
    apns_key = folder / "AuthKey_TESTKEY123.p8"
    apns_key.write_text(_pem(ec_key))
    service = PushService(url=url, fcm_credentials=credentials, apns_key=apns_key)

    def failure(token: str) -> Response | None:
        pending = service.failures.get(token)
        if pending:
            return Response(status_code=pending.pop(0), headers={"Retry-After": "120"})
        return None

    async def token(request: Request) -> Response:
        if service.token_failures:
            status = service.token_failures.pop(0)
            return JSONResponse({"error": "invalid_grant"}, status_code=status)
        form = await request.form()
        claims = jwt.decode(
            str(form["assertion"]),
            rsa_key.public_key(),
            algorithms=["RS256"],
            audience=f"{url}/token",
        )
        assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
        return JSONResponse({"access_token": ACCESS_TOKEN, "expires_in": 3600})

    async def fcm_send(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return JSONResponse({"error": {"code": 401}}, status_code=401)
        body = await request.json()
        device = body["message"]["token"]
        if device in service.gone:
            details = [{"errorCode": "UNREGISTERED"}]
            return JSONResponse({"error": {"code": 404, "details": details}}, 404)
        if (failed := failure(device)) is not None:
            return failed
        service.received.append(Received("fcm", device, body, dict(request.headers)))
        return JSONResponse({"name": "projects/mam-test/messages/1"})

    async def apns_send(request: Request) -> Response:
        header = jwt.get_unverified_header(
            request.headers["authorization"].removeprefix("bearer ")
        )
        claims = jwt.decode(
            request.headers["authorization"].removeprefix("bearer "),
            ec_key.public_key(),
            algorithms=["ES256"],
        )
        assert header["kid"] == "TESTKEY123"
        assert claims["iss"] == "TEAM123456"
        device = request.path_params["token"]
        if device in service.gone:
            return JSONResponse({"reason": "Unregistered"}, status_code=410)
        if (failed := failure(device)) is not None:
            return failed
        body = await request.json()
        service.received.append(Received("apns", device, body, dict(request.headers)))
        return Response(status_code=200)

    app = Starlette(
        routes=[
            Route("/token", token, methods=["POST"]),
            Route("/v1/projects/mam-test/messages:send", fcm_send, methods=["POST"]),
            Route("/3/device/{token}", apns_send, methods=["POST"]),
        ],
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    # Listening before the server starts: early connections wait in the backlog.
    task = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield service
    finally:
        server.should_exit = True
        await task
        listening.close()
