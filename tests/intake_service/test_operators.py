"""Operator keys: from the settings or the command line, roles, revocation, the audit log."""

from sqlalchemy import select

from intake_service.cli import main
from intake_service.operators.models import OperatorKey
from shared.operators import ConfiguredKey, hash_key
from tests.helpers import MANAGE, READ, command_line, register_and_sign_in

ACTIONS = "/v1/operator/actions"


class TestOperatorKeys:
    async def test_no_key_or_an_unknown_one_is_a_401(self, intake):
        for headers in ({}, {"X-API-Key": "mam_op_not-a-key"}, {"X-API-Key": ""}):
            response = await intake.get(ACTIONS, headers=headers)
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"] == "APIKey"
            assert (
                response.json()["type"] == "urn:mam:problem:operator-not-authenticated"
            )

    async def test_a_resident_token_is_no_operator_key(self, intake):
        resident = await register_and_sign_in(intake, "mieszkanka@example.org")
        response = await intake.get(ACTIONS, headers=resident)
        assert response.status_code == 401

    async def test_a_read_key_cannot_manage(self, intake):
        response = await intake.get(ACTIONS, headers=READ | {"Accept-Language": "en"})
        assert response.status_code == 403
        assert response.json() == {
            "type": "urn:mam:problem:operator-role-missing",
            "title": "Operator role too low",
            "status": 403,
            "detail": "This needs an operator key with the role 'manage'.",
        }

    async def test_a_key_from_the_settings_works(self, intake):
        response = await intake.get(ACTIONS, headers=MANAGE)
        assert response.status_code == 200
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_problems_speak_the_operators_language(self, intake):
        response = await intake.get(ACTIONS, headers={"Accept-Language": "de"})
        assert response.json()["title"] == "Betreiberschlüssel erforderlich"


class TestOperatorKeyCommand:
    async def test_create_use_list_and_revoke(self, intake, cli, intake_session):
        status, out, err = await cli(
            "operator-key", "create", "--name", "ekosystem-desk", "--role", "manage"
        )
        assert status == 0
        key = out.strip()
        assert key.startswith("mam_op_")
        assert len(key) > 40
        assert "shown only now" in err

        # Only the hash is stored.
        stored = await intake_session.scalar(
            select(OperatorKey).where(OperatorKey.name == "ekosystem-desk")
        )
        assert stored is not None
        assert key not in (stored.key_hash, stored.name)
        assert stored.last_used_at is None

        assert (
            await intake.get(ACTIONS, headers={"X-API-Key": key})
        ).status_code == 200

        status, out, _ = await cli("operator-key", "list")
        assert status == 0
        lines = out.splitlines()
        assert lines[0].split() == [
            "name",
            "role",
            "source",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        rows = {line.split()[0]: line.split() for line in lines[1:]}
        assert rows["city-manager"][1:3] == ["manage", "settings"]
        assert rows["city-analyst"][1:3] == ["read", "settings"]
        name, role, source, _created, last_used, revoked = rows["ekosystem-desk"]
        assert (role, source, revoked) == ("manage", "database", "-")
        assert last_used != "-"  # the request above used it
        assert key not in out

        status, _, err = await cli("operator-key", "revoke", "--name", "ekosystem-desk")
        assert status == 0
        assert "revoked" in err
        response = await intake.get(ACTIONS, headers={"X-API-Key": key})
        assert response.status_code == 401

        # Making and revoking keys are changes: the audit log names the command line.
        log = (await intake.get(ACTIONS, headers=MANAGE)).json()["items"]
        assert [
            (a["operator_name"], a["action"], a["target_id"], a["details"]) for a in log
        ] == [
            ("cli", "operator_key.revoke", "ekosystem-desk", {}),
            ("cli", "operator_key.create", "ekosystem-desk", {"role": "manage"}),
        ]

    async def test_a_read_key_from_the_command_line_cannot_manage(self, intake, cli):
        status, out, _ = await cli(
            "operator-key", "create", "--name", "analyst-2", "--role", "read"
        )
        assert status == 0
        response = await intake.get(ACTIONS, headers={"X-API-Key": out.strip()})
        assert response.status_code == 403

    async def test_names_are_never_reused(self, intake, cli):
        assert (
            await cli("operator-key", "create", "--name", "desk", "--role", "read")
        )[0] == 0
        await cli("operator-key", "revoke", "--name", "desk")
        status, out, err = await cli(
            "operator-key", "create", "--name", "desk", "--role", "read"
        )
        assert (status, out) == (1, "")
        assert "exists" in err
        status, _, _ = await cli(
            "operator-key", "create", "--name", "city-manager", "--role", "read"
        )
        assert status == 1

    async def test_a_key_made_before_the_settings_named_one_so_can_be_revoked(
        self, intake, intake_settings, monkeypatch, capsys
    ):
        made = command_line(main, intake_settings, monkeypatch, capsys)
        status, out, _ = await made(
            "operator-key", "create", "--name", "desk-7", "--role", "read"
        )
        assert status == 0
        key = out.strip()
        # Later the city lists another key of the same name in the settings.
        configured = ConfiguredKey(name="desk-7", sha256=hash_key("mam_op_" + "z" * 43))
        later = intake_settings.model_copy(
            update={"operator_keys": [*intake_settings.operator_keys, configured]}
        )
        run = command_line(main, later, monkeypatch, capsys)
        status, _, err = await run("operator-key", "revoke", "--name", "desk-7")
        assert status == 0, err
        response = await intake.get(ACTIONS, headers={"X-API-Key": key})
        assert response.status_code == 401

    async def test_revoking_what_cannot_be_revoked_fails(self, intake, cli):
        status, _, err = await cli("operator-key", "revoke", "--name", "nobody")
        assert status == 1
        assert "No key" in err
        status, _, err = await cli("operator-key", "revoke", "--name", "city-manager")
        assert status == 1
        assert "INTAKE_OPERATOR_KEYS" in err
        assert (await intake.get(ACTIONS, headers=MANAGE)).status_code == 200

    async def test_names_and_roles_are_checked(self, cli):
        for argv in (
            ("create", "--name", "jan@example.org", "--role", "read"),
            ("create", "--name", "desk", "--role", "admin"),
        ):
            status, out, _ = await cli("operator-key", *argv)
            assert (status, out) == (2, "")
