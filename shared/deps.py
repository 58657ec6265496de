"""FastAPI dependencies and routes both services use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.routes import Router


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # Only opens and closes: each use case commits itself, and closing rolls back the rest.
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class Health(BaseModel):
    """The service and its database answer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = Field(
        description="Always `ok`: a service or database that does not answer gets no 200."
    )


health_router = Router(tags=["operations"])


@health_router.get(
    "/healthz",
    summary="Health check",
    description='200 with `{"status": "ok"}` when the service and its database answer.',
)
async def read_health(session: SessionDep) -> Health:
    await session.execute(text("SELECT 1"))
    return Health(status="ok")
