"""The OpenAPI documents as app developers generate clients from them: valid OpenAPI 3.1,
short operation ids, one Problem type, and examples that their own schemas accept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from devtools.crm_simulator.app import create_app as create_simulator
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings

DOCUMENTS = {
    "intake": lambda: create_intake(IntakeSettings()).openapi(),
    "adapter": lambda: create_adapter(AdapterSettings()).openapi(),
    "crm-simulator": lambda: create_simulator().openapi(),
}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module", params=DOCUMENTS)
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    return DOCUMENTS[request.param]()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_the_document_is_valid_openapi_3_1(document):
    errors = [
        f"{'/'.join(map(str, error.path))}: {error.message[:200]}"
        for error in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert errors == []


def test_operation_ids_are_short_camel_case_and_unique(document):
    ids = [operation["operationId"] for _, operation in operations(document)]
    odd = [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*){0,4}", i)]
    assert odd == []
    assert len(ids) == len(set(ids))


def test_tags_are_described_and_the_document_says_where_and_whose(document):
    used = {tag for _, op in operations(document) for tag in op.get("tags", [])}
    described = {t["name"] for t in document.get("tags", []) if t.get("description")}
    assert used <= described
    assert document["servers"][0]["url"].startswith("http")
    assert document["info"]["contact"]["name"]
    assert document["info"]["license"]["identifier"] == "AGPL-3.0-or-later"


@pytest.mark.parametrize("service", ["intake", "adapter"])
def test_every_problem_is_the_one_problem_component(service):
    spec = DOCUMENTS[service]()
    inline = [
        f"{name} {code}"
        for name, operation in operations(spec)
        for code, response in operation["responses"].items()
        for media_type, media in response.get("content", {}).items()
        if media_type == "application/problem+json"
        and media["schema"] != {"$ref": "#/components/schemas/Problem"}
    ]
    assert inline == []
    schemas = spec["components"]["schemas"]
    assert schemas["Problem"]["required"] == ["type", "title", "status"]
    errors = schemas["Problem"]["properties"]["errors"]
    assert errors["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert set(schemas["FieldError"]["required"]) == {"field", "in", "code", "message"}


def examples_with_schemas(
    spec: dict[str, Any],
) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example the document gives."""
    for name, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            where = f"{name} parameter {parameter['name']}"
            yield from _given(where, parameter, parameter.get("schema"))
        for media_type, media in (
            operation.get("requestBody", {}).get("content", {}).items()
        ):
            yield from _given(f"{name} {media_type} body", media, media.get("schema"))
        for code, response in operation.get("responses", {}).items():
            for media_type, media in response.get("content", {}).items():
                where = f"{name} {code} {media_type}"
                yield from _given(where, media, media.get("schema"))
    yield from _inner_examples("", spec)


def _inner_examples(where: str, node: Any) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """The JSON Schema `examples` (and OpenAPI's `example`) of every schema, however deep:
    a property's examples too."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _inner_examples(f"{where}/{index}", item)
        return
    if not isinstance(node, dict):
        return
    if _is_schema(node):
        for index, example in enumerate(node.get("examples", [])):
            yield f"{where} examples/{index}", node, example
        if "example" in node:
            yield f"{where} example", node, node["example"]
    for key, value in node.items():
        if key not in {"examples", "example"} or not _is_schema(node):
            yield from _inner_examples(f"{where}/{key}", value)


def _is_schema(node: dict[str, Any]) -> bool:
    return isinstance(node.get("examples"), list) or (
        "example" in node and ("type" in node or "$ref" in node or "anyOf" in node)
    )


def _given(
    where: str, holder: dict[str, Any], schema: dict[str, Any] | None
) -> Iterator[tuple[str, dict[str, Any], Any]]:
    if schema is None:
        return
    if "example" in holder:
        yield where, schema, holder["example"]
    for key, example in holder.get("examples", {}).items():
        if "value" in example:
            yield f"{where} example {key}", schema, example["value"]


def test_every_example_is_valid_against_its_schema(document):
    registry: Registry = Registry().with_resource(
        "urn:document", DRAFT202012.create_resource(document)
    )
    wrong = []
    for where, schema, example in examples_with_schemas(document):
        if (
            schema.get("format") == "binary"
            or schema.get("type") == "string"
            and (isinstance(example, str) and example.startswith("<?xml"))
        ):
            continue
        rooted = {"$id": "urn:example", **_rebased(schema)}
        validator = Draft202012Validator(rooted, registry=registry)
        for error in validator.iter_errors(example):
            wrong.append(f"{where}: {error.message[:160]}")
    assert wrong == []


def _rebased(node: Any) -> Any:
    """The schema with its `#/components/...` references pointing into the document."""
    if isinstance(node, dict):
        return {
            key: f"urn:document{value}"
            if key == "$ref" and isinstance(value, str) and value.startswith("#/")
            else _rebased(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebased(item) for item in node]
    return node
