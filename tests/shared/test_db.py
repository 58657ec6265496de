"""Engines: a connection the database server closed is replaced, not handed to a request."""

import pytest
from sqlalchemy import text

from shared.db import make_engine
from tests.conftest import BACKENDS
from tests.helpers import eventually


# Only a server closes connections: PostgreSQL's (always there in CI).
@pytest.mark.parametrize(
    "backend", [b for b in BACKENDS if b == "postgresql"], indirect=True
)
async def test_a_pooled_connection_the_server_closed_is_replaced(databases):
    engine = make_engine(databases.intake, pool_size=1, max_overflow=0)
    admin = make_engine(databases.intake)
    try:
        async with engine.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            raw = (await connection.get_raw_connection()).driver_connection
        # The server ends the pooled connection (as a restart or an idle timeout would).
        async with admin.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await eventually(
            lambda: _closed(raw), what="the client saw the connection close"
        )
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
        await admin.dispose()


async def _closed(raw) -> bool:
    return raw.is_closed()
