"""The simulated CRM: cases in memory, status changes by hand, signed webhooks out.

It speaks its own vocabulary (`NEW`, `ASSIGNED`, `IN_PROGRESS`, …) as a real CRM would, takes
codes a city adds of its own (any upper-case code), and knows nothing of MAM beyond the
external reference it is given.

The app is put together here; its state is in `state`, its routes in `rest` (the REST JSON
API and the simulator's controls) and `open311` (Open311 GeoReport v2).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from devtools.crm_simulator import open311, rest
from devtools.crm_simulator.config import Settings
from devtools.crm_simulator.faults import FaultMiddleware
from devtools.crm_simulator.models import CaseStatus
from devtools.crm_simulator.state import Simulator
from shared.errors import allowed_methods
from shared.openapi import api_metadata
from shared.routes import add_routes
from shared.runtime import tls_context

__all__ = ["CaseStatus", "create_app"]

DESCRIPTION = (
    "Plays the city CRM for development and tests: receives cases, lets a person or a test "
    "change their status as a field worker would, and sends each change as a signed "
    "webhook (Standard Webhooks) to the adapter."
)

TAGS = [
    {
        "name": "cases",
        "description": "The CRM's REST JSON API, as the adapter calls it.",
    },
    {"name": "open311", "description": "The same cases over Open311 GeoReport v2."},
    {
        "name": "open311 simulator",
        "description": "How the Open311 side behaves: realtime or batch, tokens.",
    },
    {"name": "webhooks", "description": "The signed webhooks sent, for tests to read."},
    {
        "name": "simulator",
        "description": "Faults to inject: errors, delays, lost answers.",
    },
]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The webhooks' HTTP client (`app.state.client`) while the app serves."""
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=5.0), verify=tls_context()
    ) as client:
        app.state.client = client
        yield
        sim: Simulator = app.state.simulator
        await sim.webhooks.close()


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """An HTTP error as plain JSON with a `detail`; a 405 says which methods are allowed."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers["Allow"] = allowed_methods(request)
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=headers
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # The docs pages' scripts are served here, not from a CDN: they work offline.
    app = FastAPIOffline(
        title="MAM CRM simulator",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        **api_metadata(
            server=f"http://{settings.host}:{settings.port}",
            tags=TAGS,
            contact={"name": "MAM"},
        ),
    )
    sim = Simulator(settings, app.state)
    app.state.simulator = sim
    app.add_middleware(FaultMiddleware, state=sim.faults)
    app.add_exception_handler(StarletteHTTPException, http_error)
    add_routes(app, rest.cases, open311.router, rest.control)
    return app
