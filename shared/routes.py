"""Routers whose operations are named after their functions, and adding them to an app."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from shared.errors import ValidationFailed
from shared.i18n import N_

ALWAYS_TAKEN = frozenset({"lang"})
"""Taken by every operation: the language of its texts, and of its errors."""

UNKNOWN_PARAMETER = N_(
    "This operation has no such parameter; it takes: {allowed}. Nothing was done."
)


def operation_id(route: APIRoute) -> str:
    """`createReport` for the endpoint `create_report`: short, the same in every document
    and generated client, and stable while the function keeps its name (FastAPI's default
    adds the path and method: `create_report_v1_reports_post`, and names generated models
    after it)."""
    first, *rest = route.name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters an operation takes, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return frozenset(names)


class StrictQueryRoute(APIRoute):
    """An operation that refuses query parameters it does not take (a 422 naming each),
    rather than ignore them: `radius_m` sent for `radius` would otherwise look as if it
    worked and change nothing."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        taken = ALWAYS_TAKEN | _query_names(self.dependant)
        allowed = ", ".join(sorted(taken))

        async def checked(request: Request) -> Response:
            unknown = sorted(set(request.query_params) - taken)
            if unknown:
                raise ValidationFailed(
                    errors=[
                        {
                            "field": name,
                            "in": "query",
                            "code": "unknown_parameter",
                            "message": UNKNOWN_PARAMETER,
                        }
                        for name in unknown
                    ],
                    allowed=allowed,
                )
            return await handler(request)

        return checked


class Router(APIRouter):
    """An `APIRouter` whose operations are named by `operation_id` and refuse query
    parameters they do not take (`StrictQueryRoute`), unless given another `route_class`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("generate_unique_id_function", operation_id)
        kwargs.setdefault("route_class", StrictQueryRoute)
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
