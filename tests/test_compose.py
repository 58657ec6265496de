"""docker-compose.yml and the Dockerfile cannot run here, so check that everything they name
exists: commands, ports, variables, files, image stages, and what Prometheus scrapes."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from crm_adapter.cli import main as adapter_main
from crm_adapter.config import Settings as AdapterSettings
from devtools.crm_simulator.config import Settings as SimulatorSettings
from devtools.env_example import render as render_env_example
from devtools.stack import migrate_commands, serve_commands, worker_commands
from intake_service.cli import main as intake_main
from intake_service.config import Settings as IntakeSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP_SERVICES = {n: s for n, s in SERVICES.items() if "build" in s}
"""The services that run our image (the others run images of their own)."""
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
PROMETHEUS = yaml.safe_load(
    (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
)

SETTINGS: dict[str, type[BaseSettings]] = {
    "intake_service": IntakeSettings,
    "crm_adapter": AdapterSettings,
    "devtools.crm_simulator": SimulatorSettings,
}


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


def python_commands(service: dict[str, Any]) -> list[list[str]]:
    """The `python -m …` commands a service runs: its command, or those in its shell line."""
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        return [
            shlex.split(found)
            for found in re.findall(r"python -m [\w.]+(?: [\w-]+)*", command[2])
        ]
    return [command]


def subcommands(main, capsys: pytest.CaptureFixture[str]) -> set[str]:
    """The subcommands a service's command line offers, read from its `--help`."""
    with pytest.raises(SystemExit):
        main(argv=["--help"])
    listed = re.search(r"\{([\w,-]+)\}", capsys.readouterr().out)
    assert listed is not None
    return set(listed.group(1).split(","))


def stages() -> dict[str, str]:
    """The Dockerfile's stages by name, each with its lines."""
    parts = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]
    found = {}
    for part in parts:
        name = re.match(r"\S+ AS (\w+)", part)
        assert name is not None, f"every stage is named: FROM {part.splitlines()[0]}"
        found[name.group(1)] = part
    return found


def test_every_variable_is_a_setting():
    for name, service in APP_SERVICES.items():
        unknown = set(service["environment"]) - KNOWN_VARIABLES
        assert unknown == set(), name


def test_the_settings_it_gives_are_valid():
    # The services would refuse to start on a value their settings refuse.
    env = APP_SERVICES["intake"]["environment"]
    for settings_cls in (IntakeSettings, AdapterSettings):
        prefix = settings_cls.model_config["env_prefix"].upper()
        given = {
            key[len(prefix) :].lower(): value
            for key, value in env.items()
            if key.startswith(prefix)
        }
        settings_cls.model_validate(given)


def test_the_commands_are_those_of_make_run_and_of_the_workers():
    known = {
        tuple(c[1:])
        for commands in (migrate_commands(), serve_commands(), worker_commands())
        for c in commands.values()
    }
    for name, service in APP_SERVICES.items():
        for command in python_commands(service):
            assert command[0] == "python", name
            if command[2:] != ["intake_service", "retention"]:
                assert tuple(command[1:]) in known, name


def test_every_subcommand_exists(capsys: pytest.CaptureFixture[str]):
    offered = {
        "intake_service": subcommands(intake_main, capsys),
        "crm_adapter": subcommands(adapter_main, capsys),
    }
    used = [c for s in APP_SERVICES.values() for c in python_commands(s)]
    assert any(c[2:] == ["intake_service", "retention"] for c in used)
    for command in used:
        module = command[2]
        assert importlib.util.find_spec(module) is not None, module
        if module in offered:
            assert command[3] in offered[module], command


def test_apis_run_no_loops_and_each_service_has_a_worker():
    env = APP_SERVICES["intake"]["environment"]
    assert env["INTAKE_RUN_WORKER"] == env["ADAPTER_RUN_WORKER"] == "false"
    commands = [tuple(c[2:]) for s in APP_SERVICES.values() for c in python_commands(s)]
    assert ("intake_service", "worker") in commands
    assert ("crm_adapter", "worker") in commands


def service_port(service: dict[str, Any]) -> int:
    """The port one of our services listens on, by its settings."""
    settings_cls = SETTINGS[python_commands(service)[0][2]]
    prefix = settings_cls.model_config["env_prefix"].upper()
    default = settings_cls.model_fields["port"].default
    return int(service.get("environment", {}).get(f"{prefix}PORT", default))


def test_ports_and_health_checks_match_the_services_settings():
    for name, service in APP_SERVICES.items():
        port = service_port(service)
        for mapping in service.get("ports", []):
            assert int(mapping.split(":")[-1]) == port, name
        if service.get("restart") == "no":
            continue  # a one-off: migrations
        check = service["healthcheck"]
        if check.get("disable"):
            assert "ports" not in service, f"{name} serves HTTP: check it"
            continue
        url = re.search(r"http://[^'\"]+", " ".join(check["test"]))
        assert url is not None, name
        parts = urlsplit(url.group(0))
        assert parts.port == port, name
        assert parts.path in {"/healthz", "/readyz", "/openapi.json"}, name


def test_every_long_running_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        if service.get("restart") != "no":
            assert "healthcheck" in service, name


def test_what_services_wait_for_exists():
    for name, service in SERVICES.items():
        for other in service.get("depends_on", {}):
            assert other in SERVICES, f"{name} waits for {other}"
            assert "dev" not in SERVICES[other].get("profiles", []), name


def test_each_service_has_its_own_database():
    env = APP_SERVICES["intake"]["environment"]
    databases = {
        env["INTAKE_DATABASE_URL"].rsplit("/", 1)[1],
        env["ADAPTER_DATABASE_URL"].rsplit("/", 1)[1],
    }
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert databases == set(re.findall(r"CREATE DATABASE (\w+);", init))


def test_photos_go_to_the_object_store_it_starts():
    env = APP_SERVICES["intake"]["environment"]
    assert env["INTAKE_PHOTO_STORE"] == "s3"
    assert urlsplit(env["INTAKE_S3_ENDPOINT_URL"]).hostname in SERVICES
    bucket_made = " ".join(SERVICES["minio-init"]["command"])
    assert f"/{env['INTAKE_S3_BUCKET']}" in bucket_made
    minio = SERVICES["minio"]["environment"]
    assert env["INTAKE_S3_ACCESS_KEY_ID"] == minio["MINIO_ROOT_USER"]
    assert env["INTAKE_S3_SECRET_ACCESS_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    assert env["INTAKE_SMTP_HOST"] in SERVICES


def test_files_it_mounts_and_builds_exist():
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / "Dockerfile").is_file()
            assert build["target"] in stages()


def test_prometheus_scrapes_the_services_and_loads_the_mounted_rules():
    mounted = {
        volume.split(":")[1]: ROOT / volume.split(":")[0]
        for volume in SERVICES["prometheus"]["volumes"]
    }
    for rules in PROMETHEUS["rule_files"]:
        path = rules if rules.startswith("/") else f"/etc/prometheus/{rules}"
        assert path in mounted, rules
        assert mounted[path].is_file(), rules
    targets = [
        target
        for job in PROMETHEUS["scrape_configs"]
        for config in job["static_configs"]
        for target in config["targets"]
    ]
    assert targets
    for target in targets:
        host, port = target.split(":")
        assert host in APP_SERVICES, target
        assert int(port) == service_port(APP_SERVICES[host]), target
        assert not APP_SERVICES[host]["healthcheck"].get("disable"), target


def test_the_image_is_multi_stage_non_root_and_says_how_to_run():
    found = stages()
    assert list(found)[-1] == "runtime", "`docker build .` gives the production image"
    runtime = found["runtime"]
    user = re.findall(r"^USER (\S+)", runtime, flags=re.MULTILINE)
    assert user
    assert user[-1] not in {"root", "0"}
    assert re.search(r"^CMD \[", runtime, flags=re.MULTILINE)
    assert re.search(r"^HEALTHCHECK ", runtime, flags=re.MULTILINE)
    assert "/healthz" in runtime
    assert "COPY --from=build /opt/mam /opt/mam" in runtime
    # A regular install, not an editable one pointing into a source tree.
    assert not re.search(r"install[^\n]* -e ", DOCKERFILE)
    assert "rm -r /opt/mam/lib/python3.11/site-packages/devtools" in runtime
    cmd = re.search(r"^CMD (\[.*\])", runtime, flags=re.MULTILINE)
    assert cmd is not None
    assert yaml.safe_load(cmd.group(1)) == ["python", "-m", "intake_service", "api"]


def test_what_the_image_copies_exists():
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.MULTILINE):
        for part in source.split():
            assert (ROOT / part).exists(), part


def test_the_installed_package_carries_every_data_file():
    # The image installs a wheel: a file the code reads but the wheel leaves out (the
    # service area, the catalogs) is missing there although the source tree has it.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    tracked = subprocess.run(
        ["git", "ls-files", "shared", "intake_service", "crm_adapter"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    data = [
        path
        for path in tracked
        if not path.endswith((".py", ".po", ".pot"))
        and "/migrations/versions/" not in path
    ]
    assert data
    for path in data:
        # A pattern under "*" matches a file of any package by name; one under a package's
        # name, its path within that package.
        carried = any(fnmatch.fnmatch(Path(path).name, p) for p in package_data["*"])
        for package, patterns in package_data.items():
            folder = package.replace(".", "/") + "/"
            if path.startswith(folder):
                within = path[len(folder) :]
                carried |= any(fnmatch.fnmatch(within, p) for p in patterns)
        assert carried, f"{path} is not in the wheel: add it to package-data"


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert text == render_env_example(), (
        "run `python -m devtools.env_example > .env.example`"
    )
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert listed == KNOWN_VARIABLES
