"""A real S3-compatible server for the photo store's tests, and a proxy that fails like a network.

moto runs in server mode on a free loopback port, once per test session; each test gets a
bucket of its own (`s3_bucket`). `CuttingProxy` sits between intake and that server: it
passes bytes on until told to cut uploads after some bytes of their body, or to refuse
every connection (a store that is down).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCESS_KEY_ID = "mam-test-key-id"
SECRET_ACCESS_KEY = "mam-test-secret"


@dataclass(frozen=True)
class S3Server:
    url: str

    def client(self) -> Any:
        """A plain boto3 client of the server, to look at buckets from outside intake."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )


@dataclass
class S3Bucket:
    """A bucket of the test's own, read and written around intake."""

    server: S3Server
    name: str
    client: Any = field(repr=False)

    def object_keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(
            item["Key"] for page in pages for item in page.get("Contents", ())
        )

    def body(self, key: str) -> bytes:
        data: bytes = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        return data

    def content_type(self, key: str) -> str:
        return str(self.client.head_object(Bucket=self.name, Key=key)["ContentType"])

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=data)


@pytest.fixture(scope="session", name="s3_server")
def s3_server_fixture() -> Iterator[S3Server]:
    """moto's S3 in server mode on a free port of 127.0.0.1, for the session."""
    # Its request log would fill the captured output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture(name="s3_bucket")
def s3_bucket_fixture(s3_server: S3Server) -> Iterator[S3Bucket]:
    """An empty bucket for one test, removed with what it holds afterwards."""
    client = s3_server.client()
    name = f"mam-photos-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    bucket = S3Bucket(s3_server, name, client)
    yield bucket
    for key in bucket.object_keys():
        client.delete_object(Bucket=name, Key=key)
    client.delete_bucket(Bucket=name)
    client.close()


@dataclass
class _Cut:
    after_objects: int
    after_bytes: int


class CuttingProxy:
    """A TCP proxy to `upstream` that reads the HTTP requests going through it.

    `cut_uploads(after_objects=n, after_bytes=m)`: the next n PUTs pass, and every PUT after
    them has its connection closed once m bytes of its body went through. `refuse()`: every
    new connection is closed at once. `heal()`: everything passes again. `requests` lists
    each request's method and path.
    """

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.requests: list[tuple[str, str]] = []
        self.cuts = 0
        self._cut: _Cut | None = None
        self._refusing = False
        self._transports: set[asyncio.WriteTransport] = set()
        self._server: asyncio.Server | None = None
        self.url = ""

    def cut_uploads(self, *, after_objects: int, after_bytes: int) -> None:
        self._cut = _Cut(after_objects, after_bytes)

    def refuse(self) -> None:
        self._refusing = True
        for transport in list(self._transports):
            transport.abort()

    def heal(self) -> None:
        self._cut, self._refusing = None, False

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CuttingProxy]:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            self._server.close()
            for transport in list(self._transports):
                transport.abort()
            await self._server.wait_closed()

    async def _connection(
        self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter
    ) -> None:
        if self._refusing:
            to_client.transport.abort()
            return
        try:
            upstream, to_upstream = await asyncio.open_connection(*self.upstream)
        except OSError:
            to_client.transport.abort()
            return
        pair = {to_client.transport, to_upstream.transport}
        self._transports |= pair
        try:
            await asyncio.gather(
                self._requests(client, to_upstream),
                self._pipe(upstream, to_client),
                return_exceptions=True,
            )
        finally:
            self._transports -= pair

    async def _requests(
        self, client: asyncio.StreamReader, to_upstream: asyncio.StreamWriter
    ) -> None:
        """Pass requests on one by one, cutting an upload where told to."""
        try:
            while True:
                head = await client.readuntil(b"\r\n\r\n")
                method, path = head.split(b" ", 2)[:2]
                self.requests.append((method.decode(), path.decode()))
                cut_at = self._cut_at(method)
                to_upstream.write(head)
                remaining, sent = _content_length(head), 0
                while remaining:
                    chunk = await client.read(min(remaining, 65536))
                    if not chunk:
                        raise ConnectionResetError
                    if cut_at is not None and sent + len(chunk) >= cut_at:
                        to_upstream.write(chunk[: cut_at - sent])
                        await to_upstream.drain()
                        self.cuts += 1
                        raise ConnectionResetError
                    to_upstream.write(chunk)
                    await to_upstream.drain()
                    sent += len(chunk)
                    remaining -= len(chunk)
        finally:
            self._close(to_upstream)

    def _cut_at(self, method: bytes) -> int | None:
        if method != b"PUT" or self._cut is None:
            return None
        if self._cut.after_objects > 0:
            self._cut.after_objects -= 1
            return None
        return self._cut.after_bytes

    async def _pipe(
        self, upstream: asyncio.StreamReader, to_client: asyncio.StreamWriter
    ) -> None:
        try:
            while chunk := await upstream.read(65536):
                to_client.write(chunk)
                await to_client.drain()
        finally:
            self._close(to_client)

    @staticmethod
    def _close(writer: asyncio.StreamWriter) -> None:
        """Close a side at once; the other side's task, reading from this one's socket,
        then ends and closes its side: either side ending ends the connection for both."""
        writer.transport.abort()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0
