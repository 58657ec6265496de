"""FastAPI dependencies and routes both services use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import problem_responses
from shared.readiness import NotReadyError, Ready, check_ready
from shared.routes import Router


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # Only opens and closes: each use case commits itself, and closing rolls back the rest.
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class Health(BaseModel):
    """The process answers."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = Field(
        description="Always `ok`: a process that does not answer gives no 200."
    )


health_router = Router(tags=["operations"])


@health_router.get(
    "/healthz",
    summary="Liveness check",
    description='200 with `{"status": "ok"}` while the process answers: restart it when '
    "this fails. It does not look at the database or anything else outside the process "
    "(an outage there is no reason to restart it): `/readyz` does.",
)
async def read_health() -> Health:
    return Health(status="ok")


@health_router.get(
    "/readyz",
    summary="Readiness check",
    description="200 when this process can do its work now: its database answers, the "
    "schema is at the newest revision this code knows (`migrate` has run), every "
    "background loop of the process runs, and the service's own checks pass (intake: the "
    "photo store takes a photo). Otherwise a 503 problem `not-ready` whose `checks` "
    "member gives each check's outcome (`ok` or why not), with `Retry-After`. Each "
    "check answers within 3 s. Send traffic to a replica only while this is 200.",
    responses=problem_responses(NotReadyError),
)
async def read_ready(request: Request) -> Ready:
    return await check_ready(request)
