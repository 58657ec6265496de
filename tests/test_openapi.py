"""The OpenAPI docs of every service describe each operation and show an example of each body."""

import pytest
from fastapi import FastAPI

from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from devtools.crm_simulator.app import create_app as create_simulator
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings

APPS = {
    "intake": lambda: create_intake(IntakeSettings()),
    "adapter": lambda: create_adapter(AdapterSettings()),
    "crm-simulator": create_simulator,
}


def operations(app: FastAPI):
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


@pytest.mark.parametrize("service", APPS)
def test_every_operation_has_a_summary_and_a_description(service):
    app = APPS[service]()
    missing = [
        name
        for name, op in operations(app)
        if not op.get("summary") or not op.get("description")
    ]
    assert missing == []


@pytest.mark.parametrize("service", APPS)
def test_every_json_request_body_has_an_example(service):
    app = APPS[service]()
    spec = app.openapi()
    missing = []
    for name, op in operations(app):
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            continue
        schema = resolve(spec, content["schema"])
        if not (
            content.get("examples") or content.get("example") or schema.get("examples")
        ):
            missing.append(name)
    assert missing == []


@pytest.mark.parametrize("service", APPS)
def test_no_parameter_is_documented_as_null(service):
    """A header or a query parameter is sent or left out, never null: a client (or a
    generated test) that takes null from the schema sends the text `null`."""
    nullable = [
        f"{name} {parameter['name']}"
        for name, op in operations(APPS[service]())
        for parameter in op.get("parameters", [])
        if {"type": "null"} in parameter["schema"].get("anyOf", [])
        or parameter["schema"].get("type") == "null"
    ]
    assert nullable == []


@pytest.mark.parametrize("service", ["intake", "adapter"])
def test_every_error_response_is_a_problem_with_an_example(service):
    app = APPS[service]()
    missing = []
    for name, op in operations(app):
        errors = {code: r for code, r in op["responses"].items() if code >= "400"}
        assert "500" in errors, name
        # Open311's own error form, in the format the path names.
        forms = ["text/xml", "application/json"] if " /open311/" in name else None
        for code, response in errors.items():
            for form in forms or ["application/problem+json"]:
                body = response.get("content", {}).get(form, {})
                if not (body.get("example") or body.get("examples")):
                    missing.append(f"{name} {code} {form}")
    assert missing == []


def test_operations_name_the_problems_of_their_use_case():
    spec = APPS["intake"]().openapi()
    create = spec["paths"]["/v1/reports"]["post"]["responses"]
    examples = {
        code: set(r["content"]["application/problem+json"].get("examples", {}))
        for code, r in create.items()
        if code >= "400"
    }
    assert {"unknown-category", "outside-service-area", "photo-damaged"} <= examples[
        "422"
    ]
    assert {"photo-unsupported-type", "unsupported-media-type"} <= examples["415"]
    assert "idempotent-request-in-progress" in examples["409"]


def test_operator_operations_and_only_they_need_an_operator_key():
    app = APPS["intake"]()
    spec = app.openapi()
    scheme = spec["components"]["securitySchemes"]["OperatorKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == (
        "apiKey",
        "header",
        "X-API-Key",
    )
    operator_operations = 0
    for name, op in operations(app):
        security = op.get("security", [])
        if name.split()[1].startswith("/v1/operator/"):
            operator_operations += 1
            assert security == [{"OperatorKey": []}], name
            examples = op["responses"]["401"]["content"]["application/problem+json"]
            assert "operator-not-authenticated" in examples["examples"], name
        else:
            assert {"OperatorKey": []} not in security, name
    assert operator_operations == 27


def test_account_operations_name_their_problems_and_retry_after():
    paths = APPS["intake"]().openapi()["paths"]

    def problems(path: str, method: str = "post") -> dict[str, set[str]]:
        responses = paths[path][method]["responses"]
        return {
            code: set(r["content"]["application/problem+json"].get("examples", {}))
            for code, r in responses.items()
            if code >= "400"
        }

    throttled = [
        "/v1/accounts",
        "/v1/accounts/verification",
        "/v1/accounts/verification/resend",
        "/v1/auth/token",
        "/v1/auth/password-reset",
        "/v1/auth/password-reset/confirm",
    ]
    for path in throttled:
        assert "too-many-attempts" in problems(path)["429"], path
        assert "Retry-After" in paths[path]["post"]["responses"]["429"]["headers"]
    assert "email-taken" in problems("/v1/accounts")["409"]
    assert {"invalid-code", "code-expired"} <= problems("/v1/accounts/verification")[
        "400"
    ]
    assert "invalid-credentials" in problems("/v1/auth/token")["401"]
    assert "invalid-refresh-token" in problems("/v1/auth/refresh")["401"]
    assert paths["/v1/auth/logout"]["post"]["security"] == [{"HTTPBearer": []}]
    assert set(paths["/v1/me"]) == {"get", "patch", "delete"}


def test_every_successful_body_is_described():
    """A 2xx answer with a body names its schema, in every form it is sent in (not `{}`),
    and an answer that sends a body does not read as an empty one."""
    app = APPS["intake"]()
    spec = app.openapi()
    undescribed, bodiless = [], []
    for name, op in operations(app):
        for code, response in op["responses"].items():
            if not code.startswith("2"):
                continue
            content = response.get("content")
            if not content:
                bodiless.append(f"{name} {code}")
            for media_type, body in (content or {}).items():
                # A stream describes its events (`x-itemSchema`: `itemSchema` is 3.2).
                schema = body.get("schema") or body.get("x-itemSchema")
                if not schema or not resolve(spec, schema):
                    undescribed.append(f"{name} {code} {media_type}")
    assert undescribed == []
    # Only "accepted" and "no content" answers come without a body.
    assert [name for name in bodiless if name.split()[-1] not in ("202", "204")] == []
    paths = spec["paths"]
    answers = {
        "SupportRead": paths["/v1/reports/{report_id}/supporters"]["post"],
        "DeviceRead": paths["/v1/me/devices"]["post"],
    }
    for model, op in answers.items():
        for code in ("200", "201"):
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{model}"}, code
    geojson = paths["/v1/reports"]["get"]["responses"]["200"]["content"]
    assert resolve(spec, geojson["application/geo+json"]["schema"])["title"] == (
        "ReportFeatureCollection"
    )
