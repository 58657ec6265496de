"""Generated requests against the running services: every answer is documented, none is a 500.

Schemathesis reads each service's OpenAPI document and sends requests built from it, valid
and invalid. It fails on a server error, a status code, content type, header or body the
document does not describe, a request that breaks the schema and is still accepted, and an
operation that declares authentication and works without it. (It does not demand that every
schema-valid request succeeds: an unknown category or a report outside the city is valid
JSON and still a 422.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from devtools.crm_simulator.app import create_app as create_simulator
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(own_stack: Stack) -> Stack:
    """This module changes the city's configuration: a stack of its own."""
    return own_stack


NOT_CHECKED = [positive_data_acceptance]
EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

intake_api = schemathesis.openapi.from_dict(create_intake(IntakeSettings()).openapi())
adapter_api = schemathesis.openapi.from_dict(
    create_adapter(AdapterSettings()).openapi()
)
simulator_api = schemathesis.openapi.from_dict(create_simulator().openapi())


@intake_api.parametrize()
@EXAMPLES
def test_intake_answers_as_documented(case, stack):
    case.call_and_validate(base_url=stack.intake, excluded_checks=NOT_CHECKED)


@adapter_api.parametrize()
@EXAMPLES
def test_adapter_answers_as_documented(case, stack):
    case.call_and_validate(base_url=stack.adapter, excluded_checks=NOT_CHECKED)


@simulator_api.parametrize()
@EXAMPLES
def test_crm_simulator_answers_as_documented(case, stack):
    case.call_and_validate(base_url=stack.crm, excluded_checks=NOT_CHECKED)
