"""RFC 9457 problem details: one error base, localized titles and details, and the handlers.

Every 4xx and 5xx either service returns is `application/problem+json` with a stable `type`,
a `title` and `detail` in the language the client asked for, and for validation errors the
list of offending fields.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.db import database_unavailable
from shared.fields import omittable
from shared.i18n import N_, negotiate, translate
from shared.validation_messages import validation_message

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:mam:problem:"


class AppError(Exception):
    """An expected failure with its HTTP status; subclasses set `code`, `status_code` and texts.

    `title` and `detail` are English msgids marked with `N_`, and so is the `message` of each
    entry in `errors`; `body` translates them. `detail` and the messages may hold
    `{placeholders}` filled from the keyword arguments.
    """

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = N_("Bad request")
    detail: ClassVar[str | None] = None

    def __init__(
        self, *, errors: list[dict[str, Any]] | None = None, **params: Any
    ) -> None:
        super().__init__(self.code)
        self.params = params
        self.errors = errors

    def headers(self) -> dict[str, str] | None:
        return None

    def body(self, lang: str) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": TYPE_PREFIX + self.code,
            "title": translate(self.title, lang),
            "status": self.status_code,
        }
        if self.detail is not None:
            problem["detail"] = translate(self.detail, lang, **self.params)
        if self.errors is not None:
            problem["errors"] = [
                {**error, "message": translate(error["message"], lang, **self.params)}
                for error in self.errors
            ]
        return problem


class NotAuthenticated(AppError):
    status_code = 401
    code = "not-authenticated"
    title = N_("Authentication required")
    detail = N_(
        "The access token is missing, invalid or expired. Please sign in again."
    )

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="mam"'}


class BadSignature(AppError):
    status_code = 401
    code = "bad-signature"
    title = N_("Invalid signature")
    detail = N_(
        "The request's signature is missing, invalid or outside the time tolerance."
    )


class DatabaseUnavailable(AppError):
    status_code = 503
    code = "database-unavailable"
    title = N_("Temporarily unavailable")
    detail = N_(
        "The service cannot reach its database just now. Try again in a moment; a report "
        "sent again with the same Idempotency-Key is never filed twice."
    )
    RETRY_AFTER_SECONDS: ClassVar[int] = 2

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.RETRY_AFTER_SECONDS)}


class ValidationFailed(AppError):
    status_code = 422
    code = "validation-failed"
    title = N_("The request is not valid")
    detail = N_("Correct the listed fields and try again.")


_HTTP_TITLES: Mapping[int, str] = {
    400: N_("The request body cannot be read"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    408: N_("Request body too slow"),
    500: N_("Internal server error"),
    503: N_("Too many uploads at once"),
}

# What the framework itself answers, with a stable type and a detail like our own errors.
_HTTP_PROBLEMS: Mapping[int, tuple[str, str]] = {
    400: ("unreadable-body", N_("The body is not valid JSON, or not text in UTF-8.")),
    404: ("not-found", N_("There is nothing at this address.")),
    405: ("method-not-allowed", N_("This address does not take this method.")),
    408: (
        "body-too-slow",
        N_(
            "The request body came too slowly and was not read to the end. Send it again."
        ),
    ),
    500: (
        "internal-error",
        N_("Something failed on our side and nothing was stored. Please try again."),
    ),
    503: (
        "uploads-busy",
        N_("Too many uploads are under way. Nothing was stored; try again shortly."),
    ),
}


def http_problem(status: int, lang: str) -> dict[str, Any]:
    """The problem body of a status the framework answers (404, 405, 413, 500, ...)."""
    body: dict[str, Any] = {"type": "about:blank", "status": status}
    title = _HTTP_TITLES.get(status)
    if title is not None:
        body["title"] = translate(title, lang)
    if status in _HTTP_PROBLEMS:
        code, detail = _HTTP_PROBLEMS[status]
        body["type"] = TYPE_PREFIX + code
        body["detail"] = translate(detail, lang)
    return body


ACCOUNT_LANGUAGE = "account_language"
"""Where a service notes on `request.state` the signed-in caller's own language, once it
knows it: the default when the request asks for none."""


def request_language(request: Request) -> str:
    explicit = request.query_params.get("lang") or request.query_params.get("locale")
    return negotiate(
        request.headers.get("accept-language"),
        explicit,
        default=getattr(request.state, ACCOUNT_LANGUAGE, None),
    )


def problem_response(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


ProblemRenderer = Callable[[Request, int, dict[str, Any], Mapping[str, str]], Response]
"""Answers a problem in another form than problem+json (e.g. Open311's `<errors>`), given the
request, the status, the problem body (already in the request's language) and headers."""


def error_forms(app: FastAPI) -> dict[str, ProblemRenderer]:
    """The app's other error forms by path prefix: add one to answer errors under that prefix
    in that form (every error: our own, validation, 404/405/413 and 500)."""
    forms: dict[str, ProblemRenderer] = app.state._error_forms
    return forms


def respond(
    request: Request,
    status: int,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Response:
    forms: Mapping[str, ProblemRenderer] = getattr(
        request.app.state, "_error_forms", {}
    )
    for prefix, render in forms.items():
        if request.url.path.startswith(prefix):
            return render(request, status, body, headers or {})
    return problem_response(status, body, headers)


def _field_errors(exc: RequestValidationError, lang: str) -> list[dict[str, Any]]:
    """Each offending field: where, pydantic's error type as `code`, a message in `lang`."""
    fields = []
    for error in exc.errors():
        # The first element says where the value came from (body, query, header, path).
        location = [str(part) for part in error.get("loc", ())]
        fields.append(
            {
                "field": ".".join(location[1:]) or location[0] if location else "",
                "in": location[0] if location else "body",
                "message": validation_message(error, lang),
                "code": error.get("type", ""),
            }
        )
    return fields


def allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (Starlette names only the first route's)."""
    methods: set[str] = set()

    def collect(routes: Iterable[Any]) -> None:
        for route in routes:
            # Routers included without a prefix of their own carry their routes inside.
            inner = getattr(getattr(route, "original_router", None), "routes", None)
            if inner is not None:
                collect(inner)
                continue
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods.update(getattr(route, "methods", None) or ())

    collect(request.app.router.routes)
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    app.state._error_forms = {}

    async def on_app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return respond(
            request,
            exc.status_code,
            exc.body(request_language(request)),
            exc.headers(),
        )

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        lang = request_language(request)
        body = ValidationFailed().body(lang)
        body["errors"] = _field_errors(exc, lang)
        return respond(request, 422, body)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        lang = request_language(request)
        body = http_problem(exc.status_code, lang)
        body.setdefault("title", str(exc.detail))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return respond(request, exc.status_code, body, headers)

    async def on_database_error(request: Request, exc: Exception) -> Response:
        # Answered here rather than by the last-resort handler, which raises the error
        # again for the server to log: an outage is not a bug.
        if database_unavailable(exc):
            logger.warning(
                "request.database_unavailable",
                extra={"path": request.url.path, "error": type(exc).__name__},
            )
            return await on_app_error(request, DatabaseUnavailable())
        return await on_unexpected(request, exc)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # The type and where it happened, not the message: a database error's message can
        # quote the row it failed on, and with it a resident's e-mail or description.
        logger.error(
            "request.failed",
            extra={
                "path": request.url.path,
                "error": type(exc).__name__,
                "trace": "".join(traceback.format_tb(exc.__traceback__)),
            },
        )
        body = http_problem(500, request_language(request))
        return respond(request, 500, body)

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    for outage in (DBAPIError, PoolTimeout, OSError):
        app.add_exception_handler(outage, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)


_DESCRIPTIONS = {
    400: "The request is malformed.",
    401: "Not authenticated, or the credentials or signature are wrong.",
    403: "Not allowed.",
    404: "Not found.",
    409: "Conflicts with the current state.",
    413: "The request body is too large.",
    415: "The body's content type or a file's format is not accepted.",
    422: "The request is not valid; `errors` lists the offending fields.",
    429: "Too many requests; `Retry-After` says when to try again.",
    500: "Something failed on our side; nothing was half-stored.",
    503: "Unavailable just now; `Retry-After` says when to try again.",
}


class FieldError(BaseModel):
    """One offending field of a request."""

    model_config = ConfigDict(populate_by_name=True)

    field: str = Field(
        description="Where in its part of the request, dotted (`location.lat`, "
        "`photos.0`); empty for the part as a whole.",
        examples=["description"],
    )
    in_: Literal["body", "query", "path", "header", "cookie"] = Field(
        alias="in", description="The part of the request it is in.", examples=["body"]
    )
    code: str = Field(
        description="A stable code of what is wrong (`string_too_long`, `missing`, ...), "
        "for the app to choose its own wording.",
        examples=["string_too_long"],
    )
    message: str = Field(
        description="What is wrong, in the language of the answer.",
        examples=["Najwyżej 2000 znaków."],
    )


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`): `type` says
    which one (stable, for the app to branch on), `title` and `detail` say it in the
    language asked for."""

    type: str = Field(
        description="The kind of problem: `urn:mam:problem:` and a stable code.",
        examples=[f"{TYPE_PREFIX}validation-failed"],
    )
    title: str = Field(
        description="A short summary of the kind, in the language of the answer.",
        examples=["Nieprawidłowe dane"],
    )
    status: int = Field(
        ge=400, le=599, description="The HTTP status code.", examples=[422]
    )
    detail: str = omittable(
        description="What happened this time, in the language of the answer.",
        examples=["Popraw wskazane pola i spróbuj ponownie."],
    )
    errors: list[FieldError] = omittable(
        description="With `validation-failed` (and other refusals of given fields): "
        "each offending field.",
    )


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_components() -> dict[str, Any]:
    """The `Problem` and `FieldError` schemas, for a document's `components.schemas`."""
    schema = Problem.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    components = schema.pop("$defs")
    return {"Problem": schema, **components}


def problem_responses(
    *errors: int | type[AppError],
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses`, all RFC 9457 problem details, for statuses or error classes.

    An error class adds a named example (its `type`, English title and detail) under its
    status, so the docs show each problem an operation can return.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        status = error if isinstance(error, int) else error.status_code
        response = responses.setdefault(
            status,
            {
                "description": _DESCRIPTIONS.get(status, "Error."),
                "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
            },
        )
        if isinstance(error, int):
            continue
        example: dict[str, Any] = {
            "type": TYPE_PREFIX + error.code,
            "title": error.title,
            "status": status,
        }
        if error.detail is not None:
            example["detail"] = error.detail
        content = response["content"][PROBLEM_JSON]
        content.setdefault("examples", {})[error.code] = {
            "summary": error.title,
            "value": example,
        }
    return responses
