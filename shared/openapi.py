"""OpenAPI completeness: the errors any request can get, listed on every operation, with examples.

Routes list the errors of their own use case (`problem_responses(404, 409)`); the ones that
come from the framework are added here for every operation that can meet them: 400 (a body
that cannot be decoded), 413 (a body over the limit) and 422 (a body or parameter that does not
validate) wherever there is a body or parameters, and 500 and 503 (the database cannot be
reached just now) everywhere. So are `Accept-Language`, asked by every operation, and
`X-Request-ID`, on every answer; the description says what `traceparent` does for any
request (a header of the transport, which tracing clients add by themselves).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi._compat import (
    get_definitions,
    get_flat_models_from_fields,
    get_model_name_map,
)
from fastapi.openapi.utils import get_fields_from_routes

from shared.errors import (
    PROBLEM_JSON,
    PROBLEM_REF,
    TYPE_PREFIX,
    DatabaseUnavailable,
    problem_components,
    problem_responses,
)
from shared.guards import NulInAddress
from shared.i18n import LANGUAGES
from shared.request_ids import PATTERN as REQUEST_ID_PATTERN

_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {
        "type": f"{TYPE_PREFIX}unreadable-body",
        "title": "Nie da się odczytać treści żądania",
        "status": 400,
        "detail": "Treść nie jest poprawnym JSON-em albo tekstem w UTF-8.",
    },
    401: {
        "type": f"{TYPE_PREFIX}not-authenticated",
        "title": "Wymagane zalogowanie",
        "status": 401,
        "detail": "Brak ważnego tokenu dostępu albo token wygasł. Zaloguj się ponownie.",
    },
    413: {
        "type": f"{TYPE_PREFIX}body-too-large",
        "title": "Treść żądania jest za duża",
        "status": 413,
        "detail": "Treść żądania jest większa, niż ten adres przyjmuje.",
    },
    422: {
        "type": f"{TYPE_PREFIX}validation-failed",
        "title": "Nieprawidłowe dane",
        "status": 422,
        "detail": "Popraw wskazane pola i spróbuj ponownie.",
        "errors": [
            {
                "field": "description",
                "in": "body",
                "code": "string_too_long",
                "message": "Najwyżej 2000 znaków.",
            }
        ],
    },
    500: {
        "type": f"{TYPE_PREFIX}internal-error",
        "title": "Błąd wewnętrzny serwera",
        "status": 500,
        "detail": "Coś nie zadziałało po naszej stronie i nic nie zostało zapisane. "
        "Spróbuj ponownie.",
    },
}

LICENSE = {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}


def api_metadata(
    *,
    server: str,
    tags: list[dict[str, str]],
    contact: dict[str, str],
) -> dict[str, Any]:
    """The `FastAPI(...)` arguments every service's document shares: where it is served,
    who answers for it, its license and its tags (the operations' ids come from
    `shared.routes.Router`)."""
    return {
        "servers": [{"url": server, "description": "This deployment."}],
        "contact": contact,
        "license_info": LICENSE,
        "openapi_tags": tags,
    }


_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` list on every operation each error it can return, with examples."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            _examples_with_their_nulls(app, spec)
            # Paths answering errors in a form of their own document them themselves.
            own_forms = tuple(getattr(app.state, "_error_forms", {}))
            for path, item in spec.get("paths", {}).items():
                own = bool(own_forms) and path.startswith(own_forms)
                for method, operation in item.items():
                    if method not in _METHODS:
                        continue
                    _no_null_parameters(operation)
                    _streams_as_text(operation)
                    if own:
                        # Their invalid parameters are answered in their own form (not 422).
                        operation["responses"].pop("422", None)
                    else:
                        _complete(operation)
                    _declare_language(operation)
                    _declare_request_id(operation)
            _optional_sign_in_at_the_top(spec)
            _drop_unused_validation_schemas(spec)
            headers = spec.setdefault("components", {}).setdefault("headers", {})
            headers["RequestId"] = REQUEST_ID
            info = spec.setdefault("info", {})
            info["description"] = f"{info.get('description', '').rstrip()}\n\n{TRACING}"
            if _CONTENT_LANGUAGE_REF["$ref"] in json.dumps(spec["paths"]):
                spec.setdefault("components", {}).setdefault("headers", {})[
                    "ContentLanguage"
                ] = CONTENT_LANGUAGE
            if PROBLEM_REF["$ref"] in json.dumps(spec["paths"]):
                spec.setdefault("components", {}).setdefault("schemas", {}).update(
                    problem_components()
                )
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _examples_with_their_nulls(app: FastAPI, spec: dict[str, Any]) -> None:
    """The models' examples as written: FastAPI drops every null from the document it
    builds (`exclude_none`), examples included, and an example of a case still open lost
    its `closed_at: null`, leaving out a member its schema requires. The schemas are
    built again here as FastAPI builds them, and their examples put back."""
    fields = get_fields_from_routes(list(app.routes))
    names = get_model_name_map(get_flat_models_from_fields(fields, known_models=set()))
    _, definitions = get_definitions(
        fields=fields,
        model_name_map=names,
        separate_input_output_schemas=app.separate_input_output_schemas,
    )
    schemas = spec.get("components", {}).get("schemas", {})
    for name, definition in definitions.items():
        if name in schemas and "examples" in definition:
            schemas[name]["examples"] = definition["examples"]


def _no_null_parameters(operation: dict[str, Any]) -> None:
    """A parameter is sent or left out: the null of an optional one (`str | None`) is no
    value an address or a header can carry, and a client taking it sends the text `null`."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        branches = schema.get("anyOf", [])
        if {"type": "null"} not in branches:
            continue
        kinds = [branch for branch in branches if branch != {"type": "null"}]
        del schema["anyOf"]
        if schema.get("default", "") is None:
            del schema["default"]
        if len(kinds) == 1:
            for key, value in kinds[0].items():
                schema.setdefault(key, value)
        else:
            schema["anyOf"] = kinds


def _streams_as_text(operation: dict[str, Any]) -> None:
    """A stream's events under `x-itemSchema`: `itemSchema`, which FastAPI writes for
    Server-Sent Events, is OpenAPI 3.2, and the documents are 3.1."""
    for response in operation.get("responses", {}).values():
        for media in response.get("content", {}).values():
            if "itemSchema" in media:
                media["x-itemSchema"] = media.pop("itemSchema")


ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "The language of the texts and errors: Polish, English or German, "
    "by preference (`de-AT;q=0.9, en;q=0.5`); Polish when none of them is asked for. "
    "Where an operation takes `lang`, that wins.",
    "schema": {"type": "string"},
    "example": "en",
}


CONTENT_LANGUAGE = {
    "description": "The language of the answer's texts, as the request chose it "
    "(`Vary: Accept-Language`). Errors have it, and the answers of operations that take "
    "the language (`lang`, `locale`); answers without texts (a photo) have none.",
    "schema": {"type": "string", "enum": list(LANGUAGES)},
    "example": "pl",
}
"""The `ContentLanguage` component."""

_CONTENT_LANGUAGE_REF = {"$ref": "#/components/headers/ContentLanguage"}


def _declare_language(operation: dict[str, Any]) -> None:
    """Every answer's texts, errors included, are in the language asked for, and say so."""
    parameters = operation.setdefault("parameters", [])
    if not any(p["name"].lower() == "accept-language" for p in parameters):
        parameters.append(ACCEPT_LANGUAGE)
    chosen = any(
        p["in"] == "query" and p["name"] in ("lang", "locale") for p in parameters
    )
    for response in operation.get("responses", {}).values():
        content = response.get("content", {})
        if PROBLEM_JSON in content or (chosen and content):
            # A new dict: FastAPI may share one response's headers between operations.
            response["headers"] = {
                **response.get("headers", {}),
                "Content-Language": _CONTENT_LANGUAGE_REF,
            }


TRACING = """Every answer carries `X-Request-ID`: the one the request came with when it is 1 to
100 letters, digits or `._:-`, else one made for it; the request's log lines carry it. Any
request may carry its caller's W3C Trace Context (`traceparent`, e.g.
`00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`, and `tracestate`): the request is
handled in that trace, and so is the work it leads to in the other service and in the CRM,
and their log lines carry its trace id. A value that is not a `traceparent` is ignored, and
the request begins a trace of its own."""
"""What the document's description says of the headers of any request."""

REQUEST_ID = {
    "description": "The request's id, on every answer: the `X-Request-ID` the request "
    "came with when that is 1 to 100 letters, digits or `._:-`, else one made for it. The "
    "request's log lines carry it; quote it when asking about a request.",
    "required": True,
    "schema": {"type": "string", "pattern": REQUEST_ID_PATTERN},
    "example": "5f0c2a9e8b7d4c1e9a3b6d2f7e8c1a4b",
}
"""The `RequestId` component: `X-Request-ID` on every response."""


def _declare_request_id(operation: dict[str, Any]) -> None:
    """Every answer carries its request's id."""
    for response in operation.get("responses", {}).values():
        response["headers"] = {
            **response.get("headers", {}),
            "X-Request-ID": {"$ref": "#/components/headers/RequestId"},
        }


def _complete(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes = {500}
    if "requestBody" in operation:
        codes |= {413, 422}
    if operation.get("parameters"):
        codes.add(422)
    # Any address may come with a NUL in it (`NulGuardMiddleware`).
    every = (NulInAddress, DatabaseUnavailable)
    for code, response in problem_responses(*sorted(codes), *every).items():
        # FastAPI lists its own 422 shape (`HTTPValidationError`); ours is a problem.
        listed = responses.get(str(code), {}).get("content", {}).get(PROBLEM_JSON)
        if listed is None:
            responses[str(code)] = response
        else:
            named = response["content"][PROBLEM_JSON].get("examples", {})
            for name, example in named.items():
                listed.setdefault("examples", {}).setdefault(name, example)
    responses["503"].setdefault(
        "headers",
        {
            "Retry-After": {
                "description": "Seconds to wait before sending the request again.",
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    )
    if "requestBody" in operation:
        body_problems = responses["400"]["content"][PROBLEM_JSON]["examples"]
        body_problems.setdefault(
            "unreadable-body",
            {"summary": "Unreadable body", "value": _EXAMPLES[400]},
        )
    for code, response in responses.items():
        problem = response.get("content", {}).get(PROBLEM_JSON)
        example = _EXAMPLES.get(int(code)) if code.isdigit() else None
        if problem is not None and example is not None and "examples" not in problem:
            problem.setdefault("example", example)


def _optional_sign_in_at_the_top(spec: dict[str, Any]) -> None:
    """Operations a caller may sign in to or not (`[{}, {"HTTPBearer": []}]`) take that
    requirement from the document's top-level `security`; the operations without any say
    so with `security: []`.

    The meaning is the same, and generators read it better: openapi-python-client asks
    for an authenticated client wherever an operation lists any requirement, even the empty
    one that makes it optional, and offers either client where the operation lists none.
    """
    optional: list[dict[str, Any]] = []
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            requirements = operation.get("security") if method in _METHODS else None
            if requirements and {} in requirements:
                found = [{}, *(r for r in requirements if r)]
                assert optional in ([], found), "one kind of optional sign-in"
                optional = found
    if not optional:
        return
    spec["security"] = optional
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            if operation.get("security") and {} in operation["security"]:
                del operation["security"]
            else:
                operation.setdefault("security", [])


def _drop_unused_validation_schemas(spec: dict[str, Any]) -> None:
    """FastAPI's own 422 schemas, once no operation refers to them any more."""
    schemas = spec.get("components", {}).get("schemas", {})
    if "#/components/schemas/HTTPValidationError" not in json.dumps(spec["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
