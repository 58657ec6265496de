"""Photos in an S3-compatible object store (AWS S3, MinIO, Ceph), shared by every intake host.

aiobotocore is imported on first use, so that processes on the local folder never load it.
Every failure of the store (unreachable, timed out, a refusal such as a missing bucket or
wrong keys) comes out as `StorageUnavailable`, with a short reason that holds no secret.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import functools
import hashlib
from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING, Any, Literal

from intake_service.photos.storage import StorageUnavailable, check_key, probe

if TYPE_CHECKING:
    from intake_service.config import Settings

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
"""Waiting for the store's answer; a photo travels in a fraction of that inside a network."""
ATTEMPTS = 3
"""Each call is tried at most this often (botocore's standard retries: connection errors,
timeouts, 5xx and throttling, with jittered backoff); a PUT of the same bytes is idempotent."""
MAX_CONNECTIONS = 32
"""Connections kept to the store: the photos being stored and served at once."""

_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Storage:
    """Each key is an object `<prefix>/<key>` in `bucket`; S3 PUTs are atomic, so a reader
    sees the whole photo or none, and a PUT answered is durable (S3's own guarantee).

    The client, with its pool of connections, is opened on first use and kept. An async
    generator holds it open, and the event loop closes such generators when it ends
    (`asyncio.run`, uvicorn), so nothing else has to remember to close it; `close()` lets
    go of it sooner.
    """

    page_size = 1000
    """Keys per listing request (S3's most)."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: Literal["path", "virtual"] = "path",
        link_seconds: int = 0,
    ) -> None:
        self.bucket = bucket
        self.base = f"{check_key(prefix.strip('/'))}/" if prefix.strip("/") else ""
        self.link_seconds = link_seconds
        self._options: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url or None,
        }
        if access_key_id and secret_access_key:
            self._options |= {
                "aws_access_key_id": access_key_id,
                "aws_secret_access_key": secret_access_key,
            }
        self._addressing_style = addressing_style
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening = asyncio.Lock()
        self._holder: AsyncGenerator[Any, None] | None = None
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        return cls(
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id or None,
            secret_access_key=settings.s3_secret_access_key.get_secret_value() or None,
            addressing_style=settings.s3_addressing_style,
            link_seconds=settings.s3_presigned_url_seconds,
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        # Content-MD5: the store refuses a body that arrived other than it was sent. (Not
        # botocore's newer checksums, which older MinIO and Ceph releases refuse.)
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest())
        with _failures("PutObject"):
            client = await self._connected()
            await client.put_object(
                Bucket=self.bucket,
                Key=self._object(key),
                Body=data,
                ContentType=content_type,
                ContentMD5=digest.decode(),
            )

    async def get(self, key: str) -> bytes | None:
        with _failures("GetObject"):
            client = await self._connected()
            try:
                response = await client.get_object(
                    Bucket=self.bucket, Key=self._object(key)
                )
            except _errors().client as error:
                if _code(error) in _MISSING:
                    return None
                raise
            async with response["Body"] as body:
                data: bytes = await body.read()
                return data

    async def delete(self, key: str) -> None:
        # Deleting a key that is not there is no error in S3 either.
        with _failures("DeleteObject"):
            client = await self._connected()
            await client.delete_object(Bucket=self.bucket, Key=self._object(key))

    async def older_than(self, moment: dt.datetime) -> list[str]:
        keys = []
        with _failures("ListObjectsV2"):
            client = await self._connected()
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket,
                Prefix=self.base,
                PaginationConfig={"PageSize": self.page_size},
            )
            async for page in pages:
                for item in page.get("Contents", ()):
                    key = item["Key"].removeprefix(self.base)
                    # Objects that are not the store's own (another tool's, in the same
                    # bucket) are not listed, so never deleted.
                    if item["LastModified"] < moment and _is_key(key):
                        keys.append(key)
        return keys

    async def check(self) -> None:
        await probe(self)

    async def link(self, key: str) -> str | None:
        """A presigned GET URL of the object, valid `link_seconds`; None when that is 0.

        Signed here, without asking the store: it says nothing of whether the object is
        there. With credentials from a role, the URL ends when they do, if sooner.
        """
        if self.link_seconds <= 0:
            return None
        with _failures("presign GetObject"):
            client = await self._connected()
            url: str = await client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self._object(key)},
                ExpiresIn=self.link_seconds,
            )
            return url

    async def close(self) -> None:
        """Close the client and its connections (a later call opens a new one)."""
        holder, self._holder, self._client = self._holder, None, None
        if holder is not None:
            await holder.aclose()

    def _object(self, key: str) -> str:
        return self.base + check_key(key)

    async def _connected(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # First use, or a new event loop; a client of the old one closes with it.
            self._loop, self._opening = loop, asyncio.Lock()
            self._holder = self._client = None
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    holder = self._hold()
                    self._client = await anext(holder)
                    self._holder = holder
        return self._client

    async def _hold(self) -> AsyncGenerator[Any, None]:
        from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
        from aiobotocore.session import get_session  # type: ignore[import-untyped]

        config = AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": self._addressing_style},
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
            max_pool_connections=MAX_CONNECTIONS,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        async with get_session().create_client(
            "s3", config=config, **self._options
        ) as client:
            yield client


def _is_key(key: str) -> bool:
    try:
        check_key(key)
    except ValueError:
        return False
    return True


class _Errors:
    """The exception types of a failing store call (their modules imported on first use)."""

    def __init__(self) -> None:
        import aiohttp
        from botocore.exceptions import (  # type: ignore[import-untyped]
            BotoCoreError,
            ClientError,
        )

        self.client: type[Exception] = ClientError
        self.any: tuple[type[BaseException], ...] = (
            BotoCoreError,
            ClientError,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
        )


@functools.cache
def _errors() -> _Errors:
    return _Errors()


def _code(error: BaseException) -> str | None:
    """The S3 error code of a refusal (`NoSuchKey`, `AccessDenied`, ...), if it is one."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code else None


@contextlib.contextmanager
def _failures(operation: str) -> Iterator[None]:
    """Any failure of the store's call as `StorageUnavailable`: the operation and the
    error's type or S3 code (never its message, which may quote a URL with a signature)."""
    try:
        yield
    except StorageUnavailable:
        raise
    except _errors().any as error:
        reason = _code(error) or type(error).__name__
        raise StorageUnavailable(f"S3 {operation} failed: {reason}") from error
