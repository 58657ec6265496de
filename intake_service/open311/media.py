"""Fetching a request's `media_url`, so that it goes through the same photo checks as uploads.

Only http(s) URLs on public addresses are fetched (unless the settings allow private ones),
from the very address that was checked, without following redirects, within a time limit,
and never more than the photo size limit. A refusal says whether trying again may help: a
host that did not answer, or answered with a server error, may later; a missing photo, a
redirect, a private address or a file too large will not.
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
from shared.runtime import tls_context


class MediaNotFetched(AppError):
    """The photo at a `media_url` could not be had. `kind` names why (a key of `REASONS`),
    `retry` says whether trying again later may succeed (the host did not answer, or
    answered that it cannot serve it just now), and `technical` is the detail kept for
    operators (e.g. `HTTP 404`)."""

    status_code = 400
    code = "media-not-fetched"
    title = N_("The photo cannot be fetched")
    detail = N_("The photo at media_url could not be used: {reason}")

    def __init__(self, kind: str, *, retry: bool = False, technical: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.reason = REASONS[kind]
        self.retry = retry
        self.technical = technical or kind

    def body(self, lang: str) -> dict[str, Any]:
        body = super().body(lang)
        body["detail"] = translate(
            self.detail, lang, reason=translate(self.reason, lang)
        )
        return body


REASONS = {
    "scheme": N_("only http and https addresses are fetched."),
    "private": N_("the address is not a public one."),
    "unreachable": N_("the server did not answer in time."),
    "status": N_("the server answered with an error."),
    "too_large": N_("it is larger than the photo size limit."),
    "not_a_photo": N_("it is not a photo that can be used."),
    "store": N_("the photo could not be stored just now."),
    "internal": N_("it could not be processed just now."),
}
"""Why a photo could not be had, as operators and clients read it."""

# Statuses after which the same address may answer with the photo later.
_PASSING = frozenset({408, 425, 429})


def _refuse(kind: str, technical: str = "") -> MediaNotFetched:
    """A refusal that trying again cannot change."""
    return MediaNotFetched(kind, technical=technical)


def _unreachable(exc: BaseException) -> MediaNotFetched:
    """The host did not answer (in time): it may later."""
    return MediaNotFetched(
        "unreachable", retry=True, technical=type(exc).__name__ or "unreachable"
    )


# IPv6 prefixes whose last 32 bits are an IPv4 address that a translator may reach: NAT64's
# well-known prefix and SIIT's IPv4-translated addresses.
_CARRIERS = [ipaddress.ip_network(p) for p in ("64:ff9b::/96", "::ffff:0:0:0/96")]
# NAT64 for local use (RFC 8215): never a public address, whatever it carries.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def _public(text: str) -> bool:
    """Whether an address is on the public internet, also an IPv4 address carried in an IPv6
    one (mapped, 6to4, NAT64, IPv4-compatible): those can reach the city's own network."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return False
        inner = address.ipv4_mapped or address.sixtofour
        carried = int(address) >> 32 == 0 or any(address in n for n in _CARRIERS)
        if inner is None and carried:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None and not inner.is_global:
            return False
    return True


async def _addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The host's addresses to fetch from, once all of them are checked.

    The fetch connects to these very addresses (the host name goes in `Host` and in TLS's
    SNI and certificate check), so that a name resolving to a public address when checked
    and to an internal one when connected (DNS rebinding) cannot reach inside.
    """
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise _unreachable(exc) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise MediaNotFetched("unreachable", retry=True, technical="no address")
    if not allow_private and not all(_public(a) for a in addresses):
        raise _refuse("private")
    return addresses


async def fetch_media(
    url: str, *, max_bytes: int, seconds: float, allow_private: bool
) -> Upload:
    """The photo at `url` as an upload (spooled to disk past 1 MB)."""
    try:
        target = httpx.URL(url)
        # The host as sent: IDNA-encoded, an IPv6 literal without its brackets.
        host = target.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise _refuse("scheme") from exc
    if target.scheme not in ("http", "https") or not host:
        raise _refuse("scheme")
    port = target.port or (443 if target.scheme == "https" else 80)
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
            addresses = await _addresses(host, port, allow_private=allow_private)
            # A client of its own, keeping no connection: one made for another host name
            # at the same address must never carry this request past its certificate check.
            # Each address gets its share of the time to connect, so that a dead first one
            # leaves time for the next.
            async with httpx.AsyncClient(
                limits=httpx.Limits(max_keepalive_connections=0),
                timeout=httpx.Timeout(seconds, connect=seconds / len(addresses)),
                follow_redirects=False,
                verify=await asyncio.to_thread(tls_context),  # loading the CAs blocks
                trust_env=False,
            ) as client:
                response = await _connect(client, target, addresses, host)
                try:
                    if response.status_code != 200:
                        raise _status_refusal(response.status_code)
                    async for chunk in response.aiter_bytes():
                        if (upload.size or 0) + len(chunk) > max_bytes:
                            raise _refuse("too_large")
                        digest.update(chunk)
                        await upload.write(chunk)
                finally:
                    await response.aclose()
        await upload.seek(0)
    except (TimeoutError, httpx.HTTPError) as exc:
        await upload.close()
        raise _unreachable(exc) from exc
    except BaseException:
        await upload.close()
        raise
    size = upload.size or 0
    return Upload(filename=name, file=upload, size=size, sha256=digest.hexdigest())


def _status_refusal(status: int) -> MediaNotFetched:
    """A server error, or a sign to come back later, may pass; a missing photo, a refusal
    or a redirect (never followed) stays as it is."""
    return MediaNotFetched(
        "status",
        retry=status >= 500 or status in _PASSING,
        technical=f"HTTP {status}",
    )


async def _connect(
    client: httpx.AsyncClient, target: httpx.URL, addresses: list[str], host: str
) -> httpx.Response:
    """The response's head from the first address that takes the connection."""

    def request(address: str) -> httpx.Request:
        return client.build_request(
            "GET",
            target.copy_with(host=address),
            headers={
                # netloc keeps an IPv6 literal's brackets and a port not the default.
                "Host": target.netloc.decode("ascii"),
                # Bytes as stored: a compressed body could grow past the size limit
                # before it is counted.
                "Accept-Encoding": "identity",
            },
            extensions={"sni_hostname": host},
        )

    *others, last = addresses
    for address in others:
        try:
            return await client.send(request(address), stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            continue
    return await client.send(request(last), stream=True)
