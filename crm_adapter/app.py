"""The CRM adapter's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from crm_adapter import worker
from crm_adapter.config import Settings
from crm_adapter.crm.configured import connectors
from crm_adapter.crm.connector import CrmConnector
from crm_adapter.crm.rest_json import RestJsonConnector
from crm_adapter.deliveries.operations import router as delivery_operations_router
from crm_adapter.deliveries.router import router as deliveries_router
from crm_adapter.intake_events.router import router as intake_events_router
from crm_adapter.migrations import SCRIPT_LOCATION as MIGRATIONS
from crm_adapter.monitoring.metrics import router as metrics_router
from crm_adapter.monitoring.router import router as monitoring_router
from crm_adapter.operators.router import router as operators_router
from crm_adapter.replay import inbox_routes
from crm_adapter.routing.router import router as routing_router
from crm_adapter.statuses.router import router as statuses_router
from crm_adapter.webhooks.router import router as webhooks_router
from shared import readiness, tracing
from shared.api_documents import Audience, serve_documents
from shared.content_language import add_content_language
from shared.cors import add_cors
from shared.deps import health_router
from shared.errors import (
    install_error_handlers,
)
from shared.guards import MAX_BODY_BYTES, BodyLimitMiddleware, NulGuardMiddleware
from shared.http_metrics import add_request_metrics
from shared.openapi import api_metadata, document_errors
from shared.readiness import Readiness
from shared.routes import add_routes
from shared.runtime import Runtime, open_runtime
from shared.signing import Verifier
from shared.slow_clients import add_slow_client_limits

DESCRIPTION = """
Routes each submitted report to the responsible city unit, creates exactly one case per report
in the unit's CRM (the report id travels as the CRM's external reference), and brings the CRM's
status changes back to intake, mapped onto the canonical statuses.

Intake's events and the CRM's webhooks are signed with Standard Webhooks headers; each is stored
once under its id, so redeliveries change nothing.
"""

TAGS = [
    {
        "name": "internal",
        "description": "From intake only, signed (Standard Webhooks): new reports, "
        "reopenings, residents' comments, erasures.",
    },
    {
        "name": "crm",
        "description": "From the CRM, signed (Standard Webhooks): its status changes.",
    },
    {
        "name": "admin",
        "description": "For the city's staff, with an operator key: cases and their "
        "deliveries, the routing table, status mappings, connectors, held changes.",
    },
    {
        "name": "operations",
        "description": "Health and metrics, for the city's IT team.",
    },
]
AUDIENCES = [
    Audience("operator", "the city staff's API", frozenset({"admin", "operations"})),
    Audience("crm", "for a CRM: its signed webhooks", frozenset({"crm"})),
    Audience("internal", "from intake", frozenset({"internal"})),
]
"""The documents for each kind of client (`/openapi/<name>.json`); `/openapi.json` has all."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        crm: dict[str, CrmConnector] = {}

        def start(runtime: Runtime) -> None:
            # One set of connectors for the API and, when it runs them, the loops.
            crm.update(connectors(settings, runtime.client, runtime.sessionmaker))
            if settings.run_worker:
                worker.start_loops(runtime, settings, crm)

        async with open_runtime(settings, start) as runtime:
            app.state.sessionmaker = runtime.sessionmaker
            app.state.events_verifier = Verifier(settings.events_secrets())
            app.state.crm_webhook_verifier = Verifier(
                settings.accepted_crm_webhook_secrets()
            )
            app.state.crm_connectors = crm
            app.state.crm_connector = crm[RestJsonConnector.name]
            app.state.crm_connector_names = frozenset(crm)
            readiness.install(app, Readiness(runtime.engine, MIGRATIONS, runtime.loops))
            yield

    # The docs pages' scripts are served here, not from a CDN: they work offline.
    app = FastAPIOffline(
        title="MAM CRM adapter",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        **api_metadata(
            server=settings.base_url(),
            tags=TAGS,
            contact=settings.api_contact(),
        ),
    )
    app.state.settings = settings
    install_error_handlers(app)
    document_errors(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(NulGuardMiddleware)
    add_slow_client_limits(app, settings)
    add_request_metrics(app)  # outside the guards: their refusals are timed too
    tracing.install(app, settings)  # outside every middleware: request ids and traces
    add_content_language(app)
    add_cors(app, settings.cors_origins)
    add_routes(
        app,
        health_router,
        intake_events_router,
        webhooks_router,
        operators_router,
        inbox_routes(settings.calendar),
        deliveries_router,
        delivery_operations_router,
        routing_router,
        statuses_router,
        monitoring_router,
        metrics_router,
    )

    serve_documents(app, AUDIENCES)
    return app
