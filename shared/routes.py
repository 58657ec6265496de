"""Adding routers' routes to an app."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def add_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Serve the routers' routes, in order, as they were declared.

    `include_router` would wrap each router for this app and build its routes again at the
    app's first request; the routes of a module's router were built once, at its import, and
    every app made in the process (each test makes its own) serves them as they are. The
    routers carry their own prefixes, tags and dependencies, which is all including them
    would add.
    """
    for router in routers:
        app.router.routes.extend(router.routes)
