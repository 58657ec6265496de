"""The intake service's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from intake_service import worker
from intake_service.accounts.dependencies import account_language
from intake_service.accounts.router import me_router as account_me_router
from intake_service.accounts.router import router as accounts_router
from intake_service.area.service import load_service_area
from intake_service.categories.admin_router import router as operator_catalog_router
from intake_service.categories.router import router as categories_router
from intake_service.config import Settings
from intake_service.feedback.router import operator_router as operator_feedback_router
from intake_service.feedback.router import router as feedback_router
from intake_service.ideas.router import operator_router as operator_ideas_router
from intake_service.ideas.router import router as ideas_router
from intake_service.migrations import SCRIPT_LOCATION as MIGRATIONS
from intake_service.moderation.router import operator_router as moderation_router
from intake_service.moderation.router import router as abuse_router
from intake_service.monitoring.metrics import registry_for
from intake_service.monitoring.metrics import router as metrics_router
from intake_service.notifications.router import devices_router
from intake_service.notifications.router import router as notifications_router
from intake_service.open311.operator import operator_router as open311_media_router
from intake_service.open311.router import PREFIX as OPEN311
from intake_service.open311.router import render_error as open311_error
from intake_service.open311.router import router as open311_router
from intake_service.operators.router import router as operators_router
from intake_service.photos.originals import router as photo_originals_router
from intake_service.photos.router import router as photos_router
from intake_service.photos.service import configured_photos
from intake_service.privacy.router import router as privacy_router
from intake_service.reports.router import me_router as my_reports_router
from intake_service.reports.router import router as reports_router
from intake_service.status.router import operator_inbox_router
from intake_service.status.router import router as status_router
from intake_service.surveys.router import operator_router as operator_surveys_router
from intake_service.surveys.router import router as surveys_router
from intake_service.write_limits import FloodGuard, Refusals
from shared import memory, readiness, tracing
from shared.api_documents import Audience, serve_documents
from shared.content_language import add_content_language
from shared.cors import add_cors
from shared.deps import health_router
from shared.errors import (
    error_forms,
    install_error_handlers,
)
from shared.guards import MAX_BODY_BYTES, BodyLimitMiddleware, NulGuardMiddleware
from shared.http_metrics import add_request_metrics
from shared.looplag import startup_objects_frozen
from shared.openapi import api_metadata, document_errors
from shared.readiness import Readiness
from shared.routes import add_routes
from shared.runtime import open_runtime
from shared.signing import Verifier
from shared.slow_clients import add_slow_client_limits

DESCRIPTION = """
Residents report what is broken where they stand: a category, a position and a description,
anonymously or signed in. Each report is handed to the city's CRM through the CRM adapter, and
every status change comes back here: to the report's public history and, for a named
report, to the resident's notifications in their language.

Texts are in Polish, English or German, chosen by `?lang=` or `Accept-Language` (Polish by
default). Every error is an RFC 9457 problem (`application/problem+json`).
"""

TAGS = [
    {
        "name": "reports",
        "description": "Filing a report, the map and lists, supporting one.",
    },
    {
        "name": "categories",
        "description": "What can be reported, by group, in three languages.",
    },
    {"name": "photos", "description": "The photos of reports, as public JPEGs."},
    {
        "name": "accounts",
        "description": "Registering, verifying the address, signing in and out.",
    },
    {
        "name": "me",
        "description": "The signed-in resident: profile, own reports, notifications, devices, "
        "the export and erasure of their data.",
    },
    {"name": "feedback", "description": "After closure: was it really fixed?"},
    {"name": "surveys", "description": "The city's questions to residents."},
    {"name": "ideas", "description": "Residents' ideas for the city."},
    {
        "name": "open311",
        "description": "Open311 GeoReport v2, for existing Open311 clients (FixMyStreet and "
        "others).",
    },
    {
        "name": "operator",
        "description": "For the city's staff, with an operator key: surveys, ideas, "
        "feedback figures, the audit log, messages that could not be handled, and "
        "moderation (hiding what residents should not see, the queue of flagged reports).",
    },
    {
        "name": "internal",
        "description": "From the CRM adapter only, signed (Standard Webhooks): status changes.",
    },
    {
        "name": "operations",
        "description": "Health and metrics, for the city's IT team.",
    },
]
AUDIENCES = [
    Audience(
        "resident",
        "the residents' API",
        frozenset(
            {"reports", "categories", "photos", "accounts", "me", "feedback"}
            | {"surveys", "ideas"}
        ),
    ),
    Audience("operator", "the city staff's API", frozenset({"operator", "operations"})),
    Audience("open311", "Open311 GeoReport v2", frozenset({"open311"})),
    Audience("internal", "from the CRM adapter", frozenset({"internal"})),
]
"""The documents for each kind of client (`/openapi/<name>.json`); `/openapi.json` has all."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # The docs pages' scripts are served here, not from a CDN: they work offline.
    app = FastAPIOffline(
        title="MAM intake service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan(settings),
        **api_metadata(
            server=settings.base_url(),
            tags=TAGS,
            contact=settings.api_contact(),
        ),
    )
    app.state.settings = settings
    # How `LangDep` finds a signed-in resident's own language (`deps` is below `accounts`).
    app.state.account_language = account_language
    install_error_handlers(app)
    error_forms(app)[OPEN311 + "/"] = open311_error
    document_errors(app)
    _add_middleware(app, settings)
    tracing.install(app, settings)  # outside every middleware: request ids and traces
    _include_routers(app)
    serve_documents(app, AUDIENCES)
    return app


def _lifespan(
    settings: Settings,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Startup and shutdown: the runtime, the service area, mail, photos and metrics."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.photo_dir is not None
        settings.photo_dir.mkdir(parents=True, exist_ok=True)
        start_loops = worker.loops(settings) if settings.run_worker else None
        async with open_runtime(settings, start_loops) as runtime:
            app.state.sessionmaker = runtime.sessionmaker
            app.state.wakeups = runtime.wakeups
            app.state.service_area = load_service_area(
                settings.service_area_file, settings.city_name
            )
            app.state.events_verifier = Verifier(settings.events_secrets())
            app.state.mailer = settings.mailer()
            # Uploads pass through this process in buffers of megabytes: mapped apart and
            # handed back when freed, not kept in the heap (photos decode in workers).
            memory.limit_heap()
            app.state.photos = configured_photos(
                settings, concurrency=settings.photo_concurrency()
            )
            readiness.install(
                app,
                Readiness(
                    runtime.engine,
                    MIGRATIONS,
                    runtime.loops,
                    {"storage": app.state.photos.storage.check},
                ),
            )
            app.state.metrics, lag = registry_for(app.state.photos, app.state.uploads)
            runtime.loops.spawn("event_loop_lag", lag.run())
            try:
                with startup_objects_frozen():
                    yield
            finally:
                await app.state.photos.close()

    return lifespan


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """Body limits, the NUL guard, the write flood guard, the slow-client limits, the
    answers' language headers and CORS."""
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=MAX_BODY_BYTES,
        # Reports may come with photos (and Open311 updates with files, which are not kept).
        overrides={
            ("POST", path): settings.photo_request_max_bytes
            for path in (
                "/v1/reports",
                f"{OPEN311}/requests.xml",
                f"{OPEN311}/requests.json",
                f"{OPEN311}/servicerequestupdates.xml",
                f"{OPEN311}/servicerequestupdates.json",
            )
        },
    )
    app.add_middleware(NulGuardMiddleware)
    app.state.write_refusals = Refusals()
    app.add_middleware(FloodGuard, refusals=app.state.write_refusals)
    # Outside the guard: an upload over the cap is refused, not left waiting for a turn.
    app.state.uploads = add_slow_client_limits(app, settings)
    add_content_language(app)
    add_cors(app, settings.cors_origins)
    add_request_metrics(app)  # outside the guards: their refusals are timed too


def _include_routers(app: FastAPI) -> None:
    """Health and metrics first, then the API's routers in the order the document lists them."""
    add_routes(
        app,
        health_router,
        metrics_router,
        categories_router,
        accounts_router,
        account_me_router,
        reports_router,
        abuse_router,
        my_reports_router,
        feedback_router,
        notifications_router,
        devices_router,
        privacy_router,
        photos_router,
        status_router,
        operator_inbox_router,
        surveys_router,
        ideas_router,
        operators_router,
        operator_catalog_router,
        operator_surveys_router,
        operator_ideas_router,
        operator_feedback_router,
        photo_originals_router,
        moderation_router,
        open311_media_router,
        open311_router,
    )
