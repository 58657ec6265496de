"""Routers whose operations are named after their functions, and adding them to an app."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """`createReport` for the endpoint `create_report`: short, the same in every document
    and generated client, and stable while the function keeps its name (FastAPI's default
    adds the path and method: `create_report_v1_reports_post`, and names generated models
    after it)."""
    first, *rest = route.name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


class Router(APIRouter):
    """An `APIRouter` whose operations are named by `operation_id`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("generate_unique_id_function", operation_id)
        super().__init__(**kwargs)


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
