"""Documenting a body the route does not declare: a response in a media type other than
the route's own, or a request body the route reads itself.

FastAPI's `responses={200: {"model": M}}` describes `M` in the route's own media type only
(`application/json`); a route that also answers in another form (`application/geo+json`
for `Accept: application/geo+json`) can give that form's schema only as a plain dict.
`document_body` gives it as a model instead: its schema a component of the document (with
the models it refers to), and the response's content a reference to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.constants import REF_PREFIX
from fastapi.routing import APIRoute
from fastapi.utils import create_model_field
from pydantic import BaseModel


def document_body(
    router: APIRouter,
    endpoint: Callable[..., Any],
    *,
    status: int,
    media_type: str,
    model: type[BaseModel],
) -> None:
    """Document `model` as the body of `endpoint`'s `status` answers in `media_type`.

    The route keeps the model among its response fields under a key of its own, which
    FastAPI collects into the document's components but lists on no response (it lists
    only the statuses of `responses`); the response's content refers to the component.
    """
    route = _route_of(router, endpoint)
    key = f"{status} {media_type}"
    route.response_fields[key] = create_model_field(
        name=f"Response_{status}_{media_type}_{route.unique_id}",
        type_=model,
        mode="serialization",
    )
    content = (
        route.responses.setdefault(status, {})
        .setdefault("content", {})
        .setdefault(media_type, {})
    )
    content["schema"] = reference(model)


def document_model(
    router: APIRouter, endpoint: Callable[..., Any], model: type[BaseModel]
) -> None:
    """Make `model` a component of the documents that hold `endpoint`, for a request
    body the route reads itself (its `openapi_extra` refers to the component by name)."""
    route = _route_of(router, endpoint)
    route.response_fields[f"component {model.__name__}"] = create_model_field(
        name=f"Component_{model.__name__}_{route.unique_id}",
        type_=model,
        mode="validation",
    )


def reference(model: type[BaseModel]) -> dict[str, str]:
    """A reference to `model`'s component."""
    return {"$ref": REF_PREFIX + model.__name__}


def _route_of(router: APIRouter, endpoint: Callable[..., Any]) -> APIRoute:
    for route in router.routes:
        if isinstance(route, APIRoute) and route.endpoint is endpoint:
            return route
    raise LookupError(f"{endpoint.__name__} is not a route of this router")
