"""docker-compose.yml cannot run here, so check that everything it names exists."""

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from crm_adapter.config import Settings as AdapterSettings
from devtools.crm_simulator.config import Settings as SimulatorSettings
from devtools.env_example import render as render_env_example
from devtools.stack import migrate_commands, serve_commands
from intake_service.config import Settings as IntakeSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
APP_SERVICES = {n: s for n, s in COMPOSE["services"].items() if n != "postgres"}


def env_names(settings_cls) -> set[str]:
    prefix = settings_cls.model_config["env_prefix"]
    names = set()
    for name, field in settings_cls.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else (prefix + name).upper())
    return names


KNOWN_VARIABLES = (
    env_names(IntakeSettings)
    | env_names(AdapterSettings)
    | env_names(SimulatorSettings)
)


def test_every_variable_is_a_setting():
    for name, service in APP_SERVICES.items():
        unknown = set(service["environment"]) - KNOWN_VARIABLES
        assert unknown == set(), name


def test_the_commands_are_those_of_make_run():
    known = {tuple(c[1:]) for c in migrate_commands().values()} | {
        tuple(c[1:]) for c in serve_commands().values()
    }
    for name, service in APP_SERVICES.items():
        command = service["command"]
        assert command[0] == "python"
        assert tuple(command[1:]) in known, name


@pytest.mark.parametrize(
    "module", sorted({s["command"][2] for s in APP_SERVICES.values()})
)
def test_every_module_exists(module):
    assert importlib.util.find_spec(module) is not None


def test_every_long_running_service_has_a_healthcheck():
    for name, service in COMPOSE["services"].items():
        if not name.endswith("-migrate"):
            assert "healthcheck" in service, name


def test_each_service_has_its_own_database():
    env = APP_SERVICES["intake"]["environment"]
    databases = {
        env["INTAKE_DATABASE_URL"].rsplit("/", 1)[1],
        env["ADAPTER_DATABASE_URL"].rsplit("/", 1)[1],
    }
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert databases == set(re.findall(r"CREATE DATABASE (\w+);", init))


def test_files_it_mounts_and_builds_exist():
    assert (ROOT / "Dockerfile").is_file()
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert text == render_env_example(), (
        "run `python -m devtools.env_example > .env.example`"
    )
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert listed == KNOWN_VARIABLES
