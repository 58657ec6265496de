"""Fetching a request's `media_url`, so that it goes through the same photo checks as uploads.

Only http(s) URLs on public addresses are fetched (unless the settings allow private ones),
without following redirects, within a time limit, and never more than the photo size limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import tempfile
from typing import Any
from urllib.parse import urlsplit

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


async def _check_host(host: str, port: int) -> None:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port)
    except OSError as exc:
        raise _refuse("unreachable") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise _refuse("private")


async def fetch_media(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    seconds: float,
    allow_private: bool,
) -> Upload:
    """The photo at `url` as an upload (spooled to disk past 1 MB)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse("scheme")
    if not allow_private:
        await _check_host(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        )
    name = parts.path.rsplit("/", 1)[-1] or "media"
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
                "GET", url, follow_redirects=False, timeout=seconds
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
