"""Clients that send slowly are cut off: heads and bodies have deadlines, and uploads a cap.

Intake runs as deployed (`python -m intake_service api`, whose uvicorn protocol keeps the
head deadline), with deadlines of a second or two so that the test waits little. Every wait
is for a condition (a connection closed, an answer read), bounded by a timeout far above
the deadline; the times measured are in the failure messages.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.processes import Start, start_intake
from tests.helpers import eventually

# How slow clients are cut off is the HTTP server's and the middleware's, before any
# query: one database is enough.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("backend", ["sqlite"], indirect=True),
]

__all__ = ["start_intake"]  # the fixture

HEAD_SECONDS = 1
IDLE_SECONDS = 2
UPLOADS = 2
SLOW_CLIENTS = 200
# Far above every deadline: only a connection never cut off runs into it.
PATIENCE = 60

SETTINGS = {
    "INTAKE_HEADER_TIMEOUT_SECONDS": str(HEAD_SECONDS),
    "INTAKE_BODY_IDLE_SECONDS": str(IDLE_SECONDS),
    "INTAKE_BODY_GRACE_SECONDS": "1",
    "INTAKE_BODY_MIN_BYTES_PER_SECOND": "1000",
    "INTAKE_MAX_UPLOADS": str(UPLOADS),
}


async def connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    address = urlsplit(url)
    assert address.hostname is not None
    assert address.port is not None
    return await asyncio.open_connection(address.hostname, address.port)


async def hang_up(*writers: asyncio.StreamWriter) -> None:
    """Close the connections and wait until they are (none left for the garbage collector
    to find open once the test's event loop is gone)."""
    for writer in writers:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)


async def closed_after(reader: asyncio.StreamReader, since: float) -> float:
    """Seconds from `since` until the server closed the connection (all it sent is read)."""
    async with asyncio.timeout(PATIENCE):
        while await reader.read(65536):
            pass
    return time.monotonic() - since


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], dict]:
    """The status, headers and JSON body of the response on the connection."""
    async with asyncio.timeout(PATIENCE):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, json.loads(body)


@pytest.fixture
def slow_intake(start_intake: Start) -> str:
    return start_intake(**SETTINGS)


async def test_heads_sent_byte_by_byte_are_cut_off_and_others_are_served(
    slow_intake: str,
):
    async def slow_head() -> float:
        started = time.monotonic()
        reader, writer = await connect(slow_intake)
        # Part of a head, then nothing more: it is never complete.
        writer.write(b"POST /v1/reports HTTP/1.1\r\nHost: x\r\n")
        await writer.drain()
        try:
            return await closed_after(reader, started)
        finally:
            await hang_up(writer)

    slow = [asyncio.create_task(slow_head()) for _ in range(SLOW_CLIENTS)]
    async with httpx.AsyncClient(base_url=slow_intake, timeout=PATIENCE) as client:
        # Meanwhile a resident is served.
        assert (await client.get("/v1/categories")).status_code == 200
    times = await asyncio.gather(*slow)
    assert len(times) == SLOW_CLIENTS
    assert min(times) >= HEAD_SECONDS * 0.9, times
    # Cut off at the deadline, not when the test gave up on them.
    assert max(times) < PATIENCE / 2, f"slowest cut off after {max(times):.1f} s"


async def test_a_body_that_stalls_is_a_408_and_the_connection_closed(
    slow_intake: str,
):
    reader, writer = await connect(slow_intake)
    started = time.monotonic()
    writer.write(
        b"POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 5000\r\nAccept-Language: en\r\n\r\n{"category": '
    )
    await writer.drain()
    try:
        status, headers, problem = await answer(reader)
        waited = await closed_after(reader, started)
    finally:
        await hang_up(writer)
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert problem["type"] == "urn:mam:problem:body-too-slow"
    assert problem["title"] == "Request body too slow"
    assert waited >= IDLE_SECONDS * 0.9


async def test_a_body_that_trickles_under_the_least_rate_is_a_408(slow_intake: str):
    reader, writer = await connect(slow_intake)
    writer.write(
        b"POST /v1/ideas HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n"
    )
    await writer.drain()

    answering = asyncio.create_task(answer(reader))
    try:
        # A byte whenever half a second passes without the answer: never idle for long,
        # far below 1000 bytes a second; the body's deadline ends it well within a minute.
        for _ in range(120):
            done, _ = await asyncio.wait({answering}, timeout=0.5)
            if done:
                break
            writer.write(b" ")
            await writer.drain()
        status, _, problem = await asyncio.wait_for(answering, timeout=5)
    finally:
        answering.cancel()
        await hang_up(writer)
    assert status == 408
    assert problem["type"] == "urn:mam:problem:body-too-slow"


async def test_uploads_beyond_the_cap_are_a_503_before_their_body_is_read(
    start_intake: Start,
):
    # Uploads that stall stay under way however long the machine takes to get to the
    # one more: only the cap refuses it, not a body deadline.
    slow_intake = start_intake(
        **SETTINGS
        | {
            "INTAKE_BODY_IDLE_SECONDS": str(PATIENCE),
            "INTAKE_BODY_GRACE_SECONDS": str(PATIENCE),
        }
    )
    head = (
        b"POST /v1/reports HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 5000000\r\n\r\n--b\r\n"
    )
    under_way = []
    for _ in range(UPLOADS):
        reader, writer = await connect(slow_intake)
        writer.write(head)
        await writer.drain()
        under_way.append((reader, writer))
    async with httpx.AsyncClient(base_url=slow_intake, timeout=PATIENCE) as client:

        async def uploads_in_progress() -> float:
            metrics = (await client.get("/metrics")).text
            for line in metrics.splitlines():
                if line.startswith("mam_intake_uploads_in_progress "):
                    return float(line.split()[1])
            raise AssertionError("no mam_intake_uploads_in_progress in /metrics")

        async def both_under_way() -> bool:
            return await uploads_in_progress() >= UPLOADS

        await eventually(both_under_way, within=PATIENCE, what="two uploads under way")
    # One more sends its head and waits: the answer comes with none of the body read.
    # (A client that went on sending would race the connection's close for the answer.)
    reader, writer = await connect(slow_intake)
    writer.write(head.removesuffix(b"--b\r\n"))
    await writer.drain()
    try:
        status, headers, problem = await answer(reader)
        assert status == 503
        assert headers["content-type"] == "application/problem+json"
        assert int(headers["retry-after"]) > 0
        assert problem["type"] == "urn:mam:problem:uploads-busy"
    finally:
        await hang_up(*(stalled for _, stalled in under_way), writer)
