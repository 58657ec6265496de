"""FastAPI dependencies and routes both services use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # Only opens and closes: each use case commits itself, and closing rolls back the rest.
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


health_router = APIRouter(tags=["operations"])


@health_router.get(
    "/healthz",
    summary="Health check",
    description='200 with `{"status": "ok"}` when the service and its database answer.',
)
async def healthz(session: SessionDep) -> dict[str, str]:
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}
