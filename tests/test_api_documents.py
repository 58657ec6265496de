"""The API documents app teams generate clients from: one per audience, served by the
services at `/openapi/<name>.json`, committed in `docs/api/` as the services serve them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from devtools.api_documents import FOLDER, documents, render
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings


@contextmanager
def default_settings() -> Iterator[None]:
    """The services' settings as they are by default, whatever this environment sets."""
    with pytest.MonkeyPatch.context() as patch:
        for key in os.environ:
            if key.startswith(("INTAKE_", "ADAPTER_", "MAM_")):
                patch.delenv(key)
        yield


@pytest.fixture(scope="module")
def made() -> dict[str, dict]:
    with default_settings():
        return documents()


def test_the_committed_documents_are_what_the_services_serve(made):
    committed = {path.name for path in FOLDER.glob("*.json")}
    assert committed == set(made), "run `make api-docs`"
    stale = [
        name
        for name, document in made.items()
        if (FOLDER / name).read_text(encoding="utf-8") != render(document)
    ]
    assert stale == [], "run `make api-docs`"


def test_each_document_is_valid_openapi_3_1_and_holds_its_own_operations(made):
    for name, document in made.items():
        errors = list(OpenAPIV31SpecValidator(document).iter_errors())
        assert errors == [], name
    resident = made["intake-resident.json"]["paths"]
    assert "/v1/reports" in resident
    assert not [p for p in resident if p.startswith(("/v1/operator", "/internal"))]
    assert not [p for p in resident if p.startswith("/open311")]
    operator = made["intake-operator.json"]["paths"]
    assert all(
        p.startswith("/v1/operator") or p in {"/healthz", "/readyz", "/metrics"}
        for p in operator
    )
    assert list(made["adapter-crm.json"]["paths"]) == ["/webhooks/crm"]


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: create_intake(IntakeSettings(_env_file=None)), "intake-resident"),
        (lambda: create_intake(IntakeSettings(_env_file=None)), "intake-open311"),
        (lambda: create_adapter(AdapterSettings(_env_file=None)), "adapter-operator"),
    ],
)
async def test_a_service_serves_each_document_at_its_own_path(make, name):
    with default_settings():
        app = make()
    audience = name.split("-", 1)[1]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get(f"/openapi/{audience}.json")
    assert response.status_code == 200
    committed = (FOLDER / f"{name}.json").read_text(encoding="utf-8")
    assert response.json() == json.loads(committed)
