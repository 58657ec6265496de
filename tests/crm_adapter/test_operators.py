"""Operator keys of the adapter: from the settings or its command line, roles, the audit log."""

from tests.helpers import MANAGE, READ

ACTIONS = "/admin/actions"


async def test_without_a_valid_key_the_admin_api_is_closed(adapter):
    for headers in ({}, {"X-API-Key": "mam_op_not-a-key"}):
        response = await adapter.get(ACTIONS, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:mam:problem:operator-not-authenticated"


async def test_the_audit_log_needs_the_manage_role(adapter):
    response = await adapter.get(ACTIONS, headers=READ | {"Accept-Language": "pl"})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:mam:problem:operator-role-missing"
    assert "manage" in response.json()["detail"]

    response = await adapter.get(ACTIONS, headers=MANAGE)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_a_key_made_on_the_command_line_works_until_revoked(adapter, cli):
    status, out, err = await cli(
        "operator-key", "create", "--name", "zdium-dispatch", "--role", "manage"
    )
    assert status == 0, err
    key = out.strip()
    assert key.startswith("mam_op_")

    response = await adapter.get(ACTIONS, headers={"X-API-Key": key})
    assert response.status_code == 200
    [made] = response.json()["items"]
    assert made["operator_name"] == "cli"
    assert made["action"] == "operator_key.create"
    assert made["target_id"] == "zdium-dispatch"

    status, out, err = await cli("operator-key", "list")
    assert status == 0
    assert "zdium-dispatch" in out
    assert "city-manager" in out
    assert key not in out

    status, _, err = await cli("operator-key", "revoke", "--name", "city-manager")
    assert status == 1
    assert "ADAPTER_OPERATOR_KEYS" in err

    status, _, err = await cli("operator-key", "revoke", "--name", "zdium-dispatch")
    assert status == 0, err
    response = await adapter.get(ACTIONS, headers={"X-API-Key": key})
    assert response.status_code == 401
