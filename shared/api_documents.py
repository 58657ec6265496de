"""One OpenAPI document per audience: residents' apps, the city's staff, the other service,
Open311 clients, a CRM.

A service's whole document (`/openapi.json`, behind `/docs`) holds every operation; an app
team generating its client wants only its own. Each audience is the operations of some tags,
with the components they use, served at `/openapi/<name>.json`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
_REF = re.compile(r'"#/components/(\w+)/([^"]+)"')


@dataclass(frozen=True)
class Audience:
    name: str
    """The document's name: `/openapi/<name>.json`."""
    title: str
    tags: frozenset[str]
    """The tags of the operations it holds."""

    def path(self) -> str:
        return f"/openapi/{self.name}.json"


def audience_document(spec: dict[str, Any], audience: Audience) -> dict[str, Any]:
    """The operations of `audience`'s tags from `spec`, with the components they use."""
    document = copy.deepcopy(spec)
    document["info"]["title"] = f"{spec['info']['title']}: {audience.title}"
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        kept = {
            method: copy.deepcopy(operation)
            for method, operation in item.items()
            if method not in _METHODS or audience.tags & set(operation.get("tags", []))
        }
        if any(method in _METHODS for method in kept):
            paths[path] = kept
    document["paths"] = paths
    if all("security" in op for op in _operations(paths)):
        document.pop("security", None)  # nothing takes it from the document
    top = document.get("security", [])
    document["tags"] = [t for t in spec.get("tags", []) if t["name"] in audience.tags]
    document["components"] = _used_components(spec, paths, top)
    return document


def _used_components(
    spec: dict[str, Any], paths: dict[str, Any], top: list[dict[str, Any]]
) -> dict[str, Any]:
    """The components `paths` refer to, however indirectly, and the security schemes
    their operations (or the document's requirements, `top`) name."""
    components = spec.get("components", {})
    used: dict[str, dict[str, Any]] = {}
    pending = [json.dumps(paths), json.dumps(top)]
    while pending:
        for kind, name in _REF.findall(pending.pop()):
            section = used.setdefault(kind, {})
            if name not in section:
                section[name] = components[kind][name]
                pending.append(json.dumps(section[name]))
    requirements = [top] + [op.get("security", []) for op in _operations(paths)]
    schemes = {name for each in requirements for req in each for name in req}
    if schemes:
        used["securitySchemes"] = {
            name: components["securitySchemes"][name] for name in sorted(schemes)
        }
    return {kind: dict(sorted(section.items())) for kind, section in used.items()}


def _operations(paths: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in paths.values()
        for method, operation in item.items()
        if method in _METHODS
    ]


def serve_documents(app: FastAPI, audiences: list[Audience]) -> None:
    """Serve each audience's document at its path (not listed in the documents)."""
    for audience in audiences:
        app.add_api_route(
            audience.path(),
            _serving(app, audience),
            methods=["GET"],
            include_in_schema=False,
        )


def _serving(app: FastAPI, audience: Audience) -> Callable[[], Awaitable[JSONResponse]]:
    made: list[dict[str, Any]] = []

    async def document() -> JSONResponse:
        if not made:
            made.append(audience_document(app.openapi(), audience))
        return JSONResponse(made[0])

    return document
