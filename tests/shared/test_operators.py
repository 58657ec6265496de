"""Operator keys: generation, hashing, roles, and keys given in the settings."""

import hashlib
import json

import pytest
from pydantic import ValidationError

from intake_service.config import Settings
from shared.operators import (
    KEY_PREFIX,
    ConfiguredKey,
    Role,
    find_configured,
    generate_key,
    hash_key,
)


class TestKeys:
    def test_keys_are_long_random_and_recognisable(self):
        keys = {generate_key() for _ in range(100)}
        assert len(keys) == 100
        for key in keys:
            assert key.startswith(KEY_PREFIX)
            assert len(key) == len(KEY_PREFIX) + 43  # 32 random bytes, base64url

    def test_a_key_is_stored_as_its_sha256(self):
        assert hash_key("mam_op_abc") == hashlib.sha256(b"mam_op_abc").hexdigest()

    @pytest.mark.parametrize(
        ("role", "needed", "allowed"),
        [
            (Role.READ, Role.READ, True),
            (Role.READ, Role.MANAGE, False),
            (Role.MANAGE, Role.READ, True),
            (Role.MANAGE, Role.MANAGE, True),
        ],
    )
    def test_manage_implies_read(self, role, needed, allowed):
        assert role.allows(needed) is allowed

    def test_configured_keys_are_found_by_hash(self):
        keys = [
            ConfiguredKey(name=f"desk-{i}", role=Role.READ, sha256=hash_key(str(i)))
            for i in range(3)
        ]
        assert find_configured(keys, hash_key("1")) == keys[1]
        assert find_configured(keys, hash_key("9")) is None
        assert find_configured([], hash_key("1")) is None


class TestSettings:
    def test_keys_come_as_json_with_their_hashes(self, monkeypatch):
        digest = hash_key("mam_op_x").upper()
        monkeypatch.setenv(
            "INTAKE_OPERATOR_KEYS",
            json.dumps([{"name": "ops-jan", "role": "manage", "sha256": digest}]),
        )
        [key] = Settings().operator_keys
        assert (key.name, key.role, key.sha256) == (
            "ops-jan",
            Role.MANAGE,
            digest.lower(),
        )

    @pytest.mark.parametrize(
        "entry",
        [
            {"name": "ops-jan", "role": "admin", "sha256": "a" * 64},
            {"name": "ops-jan", "role": "read", "sha256": "mam_op_plaintext"},
            {"name": "jan@example.org", "role": "read", "sha256": "a" * 64},
            {"name": "ops-jan", "role": "read", "sha256": "a" * 64, "key": "x"},
        ],
    )
    def test_bad_entries_are_refused(self, entry):
        with pytest.raises(ValidationError):
            Settings.model_validate({"operator_keys": [entry]})

    def test_each_name_once(self):
        entry = {"name": "ops-jan", "role": "read", "sha256": "a" * 64}
        with pytest.raises(ValidationError, match="ops-jan"):
            Settings.model_validate(
                {"operator_keys": [entry, entry | {"sha256": "b" * 64}]}
            )
