"""Fetching a request's `media_url`, so that it goes through the same photo checks as uploads.

Only http(s) URLs on public addresses are fetched (unless the settings allow private ones),
from the very address that was checked, without following redirects, within a time limit,
and never more than the photo size limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
import tempfile
from typing import Any

import httpx
from starlette.datastructures import UploadFile

from intake_service.photos.upload import Upload
from shared.errors import AppError
from shared.i18n import N_, translate


class MediaNotFetched(AppError):
    status_code = 400
    code = "media-not-fetched"
    title = N_("The photo cannot be fetched")
    detail = N_("The photo at media_url could not be used: {reason}")

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def body(self, lang: str) -> dict[str, Any]:
        body = super().body(lang)
        body["detail"] = translate(
            self.detail, lang, reason=translate(self.reason, lang)
        )
        return body


_REASONS = {
    "scheme": N_("only http and https addresses are fetched."),
    "private": N_("the address is not a public one."),
    "unreachable": N_("the server did not answer in time."),
    "status": N_("the server answered with an error."),
    "too_large": N_("it is larger than the photo size limit."),
}


def _refuse(reason: str) -> MediaNotFetched:
    return MediaNotFetched(reason=_REASONS[reason])


async def _address(host: str, port: int, *, allow_private: bool) -> str:
    """The address to fetch from: the host's first one, once all of them are checked.

    The fetch connects to this very address (the host name goes in `Host` and in TLS's
    SNI and certificate check), so that a name resolving to a public address when checked
    and to an internal one when connected (DNS rebinding) cannot reach inside.
    """
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise _refuse("unreachable") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise _refuse("unreachable")
    if not allow_private and not all(
        ipaddress.ip_address(a.split("%", 1)[0]).is_global for a in addresses
    ):
        raise _refuse("private")
    return addresses[0]


async def fetch_media(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    seconds: float,
    allow_private: bool,
) -> Upload:
    """The photo at `url` as an upload (spooled to disk past 1 MB)."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _refuse("scheme") from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise _refuse("scheme")
    host = target.host
    port = target.port or (443 if target.scheme == "https" else 80)
    address = await _address(host, port, allow_private=allow_private)
    pinned = target.copy_with(host=address)
    headers = {"Host": host if target.port is None else f"{host}:{target.port}"}
    name = target.path.rsplit("/", 1)[-1] or "media"
    # Starlette's UploadFile writes in a worker thread once the file has rolled to disk.
    upload = UploadFile(
        file=tempfile.SpooledTemporaryFile(max_size=1024 * 1024),  # type: ignore[arg-type]  # noqa: SIM115 (closed by the upload)
        filename=name,
        size=0,
    )
    digest = hashlib.sha256()
    try:
        async with asyncio.timeout(seconds):
            async with client.stream(
                "GET",
                pinned,
                headers=headers,
                extensions={"sni_hostname": host},
                follow_redirects=False,
                timeout=seconds,
            ) as response:
                if response.status_code != 200:
                    raise _refuse("status")
                async for chunk in response.aiter_bytes():
                    if (upload.size or 0) + len(chunk) > max_bytes:
                        raise _refuse("too_large")
                    digest.update(chunk)
                    await upload.write(chunk)
    except (TimeoutError, httpx.HTTPError) as exc:
        await upload.close()
        raise _refuse("unreachable") from exc
    except BaseException:
        await upload.close()
        raise
    await upload.seek(0)
    size = upload.size or 0
    return Upload(filename=name, file=upload, size=size, sha256=digest.hexdigest())
