"""Generated requests against the running services: every answer is documented, none is a 500.

Schemathesis reads each service's OpenAPI document and sends requests built from it, valid
and invalid. It fails on a server error, a status code, content type, header or body the
document does not describe, a request that breaks the schema and is still accepted, a
request the schema allows that is refused as invalid (400, 422), and an operation that
declares authentication and works without it.

The requests carry real credentials, so they get past the 401 to the code behind it: a
resident's access token, an operator key of each role, the Open311 client's `api_key`, and
Standard Webhooks signatures over the very bytes sent to the signed endpoints.

Both databases get every request the document allows. The requests it forbids (wrong
types, methods, media types, bounds) meet the same validation whichever database is under
it, and one that is not refused fails on SQLite: they are sent there only.

Some valid requests are refused for a reason no JSON Schema can state (a code that was
never mailed, a place outside the city): `REFUSALS` names each with why. Any other 400 or
422 to a request the document allows fails, as does a 500.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from devtools.crm_simulator.app import create_app as create_simulator
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings
from shared.errors import TYPE_PREFIX
from shared.i18n import LANGUAGES, translate
from shared.settings import DEV_SECRETS
from shared.signing import Signer
from tests.e2e.conftest import Stack, StackOfItsOwn
from tests.helpers import (
    MANAGE,
    OPEN311_KEY,
    READ,
    folder_mailbox,
    register_and_sign_in,
)

pytestmark = pytest.mark.e2e


# The generated sign-ins, registrations and codes would soon exhaust the limits per address
# (the throttles are tried in tests/intake_service/test_throttling.py): lifted here, so the
# requests reach what lies behind them, and the module can sign residents in.
UNLIMITED_ATTEMPTS = {
    f"INTAKE_{name.upper()}": "1000000"
    for name in (
        "throttle_signin_per_client",
        "throttle_codes_per_client",
        "throttle_mails_per_client",
    )
}


@pytest.fixture(scope="module")
def stack(backend: str, stack_of_its_own: StackOfItsOwn) -> Iterator[Stack]:
    """This module changes the city's configuration: a stack of its own, with the limits
    on attempts lifted."""
    yield from stack_of_its_own(backend, "conformance", settings=UNLIMITED_ATTEMPTS)


EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
# A `read` key reads what a `manage` key reads, and is refused (403) the rest: a few
# examples show both, without the coverage phase's edge cases, which the `manage` key
# takes every operation through.
FEW_EXAMPLES = settings(EXAMPLES, max_examples=4)

SETTINGS: dict[str, Any] = {
    # The credentials are the tests' own: no values are made up for the declared
    # key and token (nor left out, as they would be put back); `ignored_auth` still
    # sends each operation without them and with wrong ones.
    "generation": {"with-security-parameters": False},
    "operations": [
        # The stream opens with a `ready` event and then stays open.
        {"include-path": "/v1/me/notifications/stream", "max-stream-events": 1},
        # An event too long for its lists (a catalog of 501 categories) can be over the
        # body limit of 1 MiB before its schema is looked at: refused with a 413.
        {
            "include-path": "/internal/events",
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [
                        400,
                        401,
                        403,
                        404,
                        405,
                        406,
                        409,
                        413,
                        415,
                        422,
                        428,
                        429,
                    ]
                }
            },
        },
        # A change without If-Match is a 428 Precondition Required (RFC 6585).
        {
            "include-path": "/admin/routing",
            "include-method": "PUT",
            "checks": {
                "missing_required_header": {
                    "expected-statuses": [400, 401, 403, 406, 415, 422, 428]
                }
            },
        },
    ],
}
CONFIG = SchemathesisConfig.from_dict(SETTINGS)
NO_COVERAGE_PHASE = SchemathesisConfig.from_dict(
    SETTINGS | {"phases": {"coverage": {"enabled": False}}}
)

BOUNDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}


def whole_bounds(node: Any) -> Any:
    """The document with its whole-number bounds as integers: the same numbers (JSON has
    one kind), but FastAPI writes bounds as floats, and the generator's sums on a float
    past 2**53 overshoot (a value under 2**63 became 2**63 + 190)."""
    if isinstance(node, dict):
        return {
            key: int(value)
            if key in BOUNDS and isinstance(value, float) and value.is_integer()
            else whole_bounds(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [whole_bounds(item) for item in node]
    return node


def load(document: dict[str, Any], config: SchemathesisConfig = CONFIG) -> Any:
    return schemathesis.openapi.from_dict(whole_bounds(document), config=config)


INTAKE = create_intake(IntakeSettings()).openapi()
ADAPTER = create_adapter(AdapterSettings()).openapi()
intake_api = load(INTAKE)
adapter_api = load(ADAPTER)
intake_read_api = load(INTAKE, NO_COVERAGE_PHASE)
adapter_read_api = load(ADAPTER, NO_COVERAGE_PHASE)
simulator_api = load(create_simulator().openapi())


@dataclass(frozen=True)
class Refusal:
    """A schema-valid request refused for a reason no JSON Schema can state."""

    status: int
    problem: str | None
    """The problem `type` (after `urn:mam:problem:`); None for Open311's own error form."""
    why: str
    causes: str | None = None
    """A regular expression for the causes it is about: `field: message` of each error
    a `validation-failed` lists (indexes left out of the field), the messages of an
    invalid event or webhook. None: any."""
    operations: frozenset[str] = frozenset()
    """Where it is expected ("GET /v1/reports"); empty: wherever it comes."""

    def applies(self, case: Any, response: Any) -> bool:
        operation = f"{case.method} {case.path}"
        return response.status_code == self.status and (
            not self.operations or operation in self.operations
        )


def causes(problem: dict[str, Any]) -> list[str]:
    """What a problem says is wrong: its fields, or the messages in its detail."""
    if "errors" in problem:
        return [
            re.sub(r"\.\d+(?=\.|$)", "", str(error.get("field")))
            + f": {error.get('message')}"
            for error in problem["errors"]
        ]
    detail = str(problem.get("detail", ""))
    # An invalid webhook quotes pydantic's errors; an invalid event lists `where: what`.
    quoted = re.findall(r"'msg': (?:'([^']*)'|\"([^\"]*)\")", detail)
    if quoted:
        return [single or double for single, double in quoted]
    _, _, reasons = detail.partition(": ")
    return [reason.rpartition(": ")[2] for reason in reasons.split("; ") if reason]


def refused_for_a_reason(case: Any, response: Any) -> bool:
    """Whether every cause the answer gives is one of `REFUSALS`."""
    refusals = [r for r in REFUSALS if r.applies(case, response)]
    if any(r.problem is None for r in refusals):
        return True
    try:
        problem = json.loads(response.content)
    except ValueError:
        return False
    if not isinstance(problem, dict):
        return False
    kind = str(problem.get("type", "")).removeprefix(TYPE_PREFIX)
    refusals = [r for r in refusals if r.problem == kind]
    if any(r.causes is None for r in refusals):
        return True
    found = causes(problem)
    return bool(found) and all(
        any(re.search(str(r.causes), cause) for r in refusals) for cause in found
    )


NO_NUL = "|".join(
    re.escape(translate("The text must not contain NUL characters.", lang))
    for lang in LANGUAGES
)

REFUSALS = [
    Refusal(
        400,
        "nul-in-address",
        "Nothing here takes a NUL: one in the address is refused, whatever the parameter.",
    ),
    Refusal(
        422,
        "validation-failed",
        "Nothing here takes a NUL (PostgreSQL stores none): a text holding one is refused.",
        causes=f": ({NO_NUL})$",
    ),
    *(
        Refusal(
            422,
            problem,
            "Nothing here takes a NUL: a text holding one is refused.",
            causes="NUL characters",
        )
        for problem in ("invalid-event", "invalid-webhook")
    ),
    Refusal(
        400,
        None,
        "Open311 answers in its own form: a NUL in the address is its 400.",
        operations=frozenset(
            f"GET /open311/v2/{path}"
            for path in (
                "discovery.{fmt}",
                "services.{fmt}",
                "services/{service_code}.{fmt}",
                "requests/{service_request_id}.{fmt}",
                "tokens/{token}.{fmt}",
            )
        ),
    ),
    Refusal(
        422,
        "invalid-cursor",
        "A cursor is only ever a `next_cursor` a previous page gave.",
    ),
    Refusal(
        422,
        "unknown-category",
        "A category is one of the city's active ones (`GET /v1/categories`).",
    ),
    Refusal(
        422,
        "outside-service-area",
        "A place is inside the city, whose boundary is a polygon.",
    ),
    Refusal(400, "invalid-code", "Only the code mailed to the address is right."),
    Refusal(
        422,
        "invalid-bbox",
        "A map box's minimum is not above its maximum; the four numbers are one text.",
    ),
    Refusal(
        422,
        "invalid-status",
        "Statuses are codes in a list whose items may be comma lists themselves.",
    ),
    Refusal(
        422,
        "idempotency-key-reused",
        "An Idempotency-Key is new for each report; sent again with another, it is "
        "refused (draft-ietf-httpapi-idempotency-key-header).",
    ),
    Refusal(422, "empty-period", "A period's `since` comes before its `until`."),
    Refusal(422, "empty-dead-window", "`dead_since` comes before `dead_until`."),
    *(
        Refusal(
            422,
            problem,
            "An event's or a CRM change's times lie between 1970 and 9000 (in UTC).",
            causes="between 1970 and 9000",
        )
        for problem in ("invalid-event", "invalid-webhook")
    ),
    Refusal(
        422,
        "validation-failed",
        "Times lie between 1970 and 9000 (once in UTC), and a survey ends after it "
        "starts: `format: date-time` has no bounds.",
        causes="^(since|until|starts_at|ends_at|dead_since|dead_until): ",
    ),
    Refusal(
        422,
        "validation-failed",
        "The options of a choice question have codes that differ.",
        causes="^questions.options: ",
    ),
    Refusal(
        422,
        "routing-table-invalid",
        "A routing table's rules name its own units and the connectors configured here, "
        "and their areas are valid polygons.",
    ),
    Refusal(
        412,
        "routing-version-changed",
        "`If-Match` names the routing table's current version, which only a read tells.",
    ),
    Refusal(
        412,
        "revision-changed",
        "`If-Match` names the revision of the category or group read, which only a read "
        "tells; without it a PUT makes a new one, and one of that code may exist.",
    ),
    Refusal(
        428,
        "revision-required",
        "A category or group that exists is changed only with `If-Match` naming the "
        "revision read (the example's codes exist).",
    ),
    Refusal(
        422,
        "category-group-unknown",
        "A category's group is one the catalog has.",
    ),
    Refusal(
        422,
        "validation-failed",
        "A category's choice fields list their choices and only they do; codes of "
        "attributes and of choices differ.",
        causes="^attributes",
    ),
    Refusal(
        422,
        "catalog-full",
        "The catalog holds at most 500 categories.",
    ),
    Refusal(
        422,
        "validation-failed",
        "A password is not one of the most common ones, nor made of the address.",
        causes="^(password|new_password): ",
    ),
    Refusal(
        422,
        "validation-failed",
        "An address is one mail can be delivered to: `format: email` also admits "
        "special-use domains (`.test`, `.invalid`).",
        causes="^email: ",
    ),
    Refusal(
        400,
        None,
        "Open311 documents its filters as text: `status` is a comma list of open and "
        "closed, the dates are W3C date-times, at most 90 days apart and in order.",
        operations=frozenset(
            {
                "GET /open311/v2/requests.{fmt}",
                "GET /open311/v2/servicerequestupdates.{fmt}",
            }
        ),
    ),
    Refusal(
        400,
        None,
        "A report filed over Open311 is checked as any report: the place lies in the "
        "city, the attributes are the category's, `lat` and `long` come together.",
        operations=frozenset({"POST /open311/v2/requests.{fmt}"}),
    ),
]


def positive_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's `positive_data_acceptance`, but for the refusals in `REFUSALS`."""
    if refused_for_a_reason(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)


def sent_on(backend: str, case: Any) -> bool:
    """Whether the case is sent on `backend`: on PostgreSQL, only if the document allows it."""
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    return not (negative and backend == "postgresql")


def validate(
    case: Any,
    backend: str,
    *,
    excluded: list[Any] | None = None,
    credentials: bool = True,
    **kwargs: Any,
) -> Any:
    """Send the case and run the checks; with `credentials`, the request must also have
    got past them (no 401), or the run would only ever try the 401 path.

    On PostgreSQL only the requests the document allows are sent (see the module's
    docstring); None is returned for the others."""
    if not sent_on(backend, case):
        return None
    kwargs.setdefault("session", KEEP_ALIVE)
    response = case.call_and_validate(
        excluded_checks=[positive_data_acceptance, *(excluded or [])],
        additional_checks=[positive_data_accepted],
        **kwargs,
    )
    if credentials:
        assert response.status_code != 401, response.text
    return response


class LoopbackSession(requests.Session):
    """A session kept for the module: its connections stay open from one case to the next,
    as a client's do, and it reads no proxy settings (loopback is reached directly)."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False


KEEP_ALIVE = LoopbackSession()


class SigningSession(LoopbackSession):
    """Signs every request it sends (Standard Webhooks) over the bytes that go out, as the
    other service or the CRM would: generated bodies reach the checks behind the signature."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._signer = Signer(secret)

    def send(
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        assert isinstance(body, bytes), "generated bodies are sent whole"
        try:
            body.decode()
        except UnicodeDecodeError:
            pass  # nobody signs such a body; it is answered as unsigned
        else:
            request.headers.update(self._signer.headers(str(uuid.uuid4()), body))
        return super().send(request, **kwargs)


SIGNED_BY = {
    name: SigningSession(DEV_SECRETS[name])
    for name in ("adapter_to_intake", "intake_to_adapter", "crm_webhooks")
}
"""A signing session per sender."""


def sign_in_resident(stack: Stack) -> dict[str, str]:
    """The Authorization header of a new, verified resident's access token."""

    async def sign_in() -> dict[str, str]:
        async with stack.intake_client() as client:
            return await register_and_sign_in(
                client,
                f"fuzz-{uuid.uuid4().hex[:12]}@example.com",
                mailbox=folder_mailbox(stack.mail_dir),
            )

    return asyncio.run(sign_in())


@pytest.fixture(scope="module")
def resident(stack: Stack) -> Callable[[bool], dict[str, str]]:
    """A resident's token: the module's own, or a fresh one for the operations that end it
    (signing out, erasing the account)."""
    shared = sign_in_resident(stack)
    return lambda fresh: sign_in_resident(stack) if fresh else shared


ENDS_THE_TOKEN = {("POST", "/v1/auth/logout"), ("DELETE", "/v1/me")}


def schemes(case: Any) -> set[str]:
    """The credentials an operation takes: its own requirements, or the document's (the
    operations a resident may sign in to or not take those)."""
    raw = case.operation.definition.raw
    security = raw.get("security", INTAKE.get("security", []))
    return {name for requirement in security for name in requirement}


@intake_api.exclude(path_regex="^/(v1/operator|internal)/").parametrize()
@EXAMPLES
def test_intake_answers_as_documented(case, backend, stack, resident):
    if not sent_on(backend, case):
        return  # before a resident is signed in for it
    headers = {}
    if "HTTPBearer" in schemes(case):
        headers = resident((case.method, case.path) in ENDS_THE_TOKEN)
    keyed = (
        case.method == "POST"
        and case.path.startswith("/open311/")
        and isinstance(case.body, dict)
    )
    if keyed:
        case.body["api_key"] = OPEN311_KEY
    response = validate(
        case,
        backend,
        base_url=stack.intake,
        headers=headers,
        credentials=bool(headers),
    )
    if keyed and case.meta is not None and case.meta.generation.mode.is_positive:
        # A valid form carries the key, and it was taken (a form sent as another media
        # type, in a negative case, carries none).
        assert response.status_code != 403, response.text


@intake_api.exclude(path_regex="^(?!/v1/operator/)").parametrize()
@EXAMPLES
def test_intake_answers_operators_as_documented(case, backend, stack):
    validate(case, backend, base_url=stack.intake, headers=MANAGE)


@intake_read_api.exclude(path_regex="^(?!/v1/operator/)").parametrize()
@FEW_EXAMPLES
def test_intake_answers_a_read_key_as_documented(case, backend, stack):
    validate(case, backend, base_url=stack.intake, headers=READ)


@intake_api.exclude(path_regex="^(?!/internal/)").parametrize()
@EXAMPLES
def test_intake_takes_signed_events_as_documented(case, backend, stack):
    session = SIGNED_BY["adapter_to_intake"]
    validate(case, backend, base_url=stack.intake, session=session)


@adapter_api.exclude(path_regex="^/(admin|internal|webhooks)/").parametrize()
@EXAMPLES
def test_adapter_answers_as_documented(case, backend, stack):
    validate(case, backend, base_url=stack.adapter, credentials=False)


@adapter_api.exclude(path_regex="^(?!/admin/)").parametrize()
@EXAMPLES
def test_adapter_answers_operators_as_documented(case, backend, stack):
    validate(case, backend, base_url=stack.adapter, headers=MANAGE)


@adapter_read_api.exclude(path_regex="^(?!/admin/)").parametrize()
@FEW_EXAMPLES
def test_adapter_answers_a_read_key_as_documented(case, backend, stack):
    validate(case, backend, base_url=stack.adapter, headers=READ)


@adapter_api.exclude(path_regex="^(?!/internal/)").parametrize()
@EXAMPLES
def test_adapter_takes_signed_events_as_documented(case, backend, stack):
    session = SIGNED_BY["intake_to_adapter"]
    validate(case, backend, base_url=stack.adapter, session=session)


@adapter_api.exclude(path_regex="^(?!/webhooks/)").parametrize()
@EXAMPLES
def test_adapter_takes_signed_crm_webhooks_as_documented(case, backend, stack):
    session = SIGNED_BY["crm_webhooks"]
    validate(case, backend, base_url=stack.adapter, session=session)


CRM_KEY = {"Authorization": f"Bearer {DEV_SECRETS['crm_api_key']}"}


# The simulator keeps its cases in memory: the databases under the stack do not change
# what it answers, so one stack is enough.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@simulator_api.parametrize()
@EXAMPLES
def test_crm_simulator_answers_as_documented(case, backend, stack):
    form = case.method == "POST" and case.path.startswith("/open311/")
    if form and isinstance(case.body, dict):
        case.body["api_key"] = DEV_SECRETS["crm_api_key"]  # its Open311 clients' key
    excluded = []
    if (case.method, case.path) == ("GET", "/open311/v2/requests.{fmt}"):
        # Open311: `service_request_id` overrides the other filters, which are then not
        # read, even when they are malformed.
        excluded.append(negative_data_rejection)
    validate(case, backend, base_url=stack.crm, headers=CRM_KEY, excluded=excluded)
