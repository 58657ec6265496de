"""The benchmarks start the services on the ports their settings give, else on free ones."""

from __future__ import annotations

import socket

import httpx
import pytest

from bench.harness import Databases, intake_alone
from devtools.stack import PORT_SETTINGS, chosen_ports, free_ports


def test_a_port_set_in_the_environment_is_used_and_the_others_are_free():
    [wanted] = free_ports(1)
    intake, adapter, crm = chosen_ports(PORT_SETTINGS, {"INTAKE_PORT": str(wanted)})
    assert intake == wanted
    assert len({intake, adapter, crm}) == 3


def test_the_env_file_gives_ports_and_the_environment_wins(tmp_path):
    in_file, in_environment = free_ports(2)
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"ADAPTER_PORT={in_file}\nINTAKE_PORT=1\n")
    intake, adapter, _ = chosen_ports(
        PORT_SETTINGS, {"INTAKE_PORT": str(in_environment)}, dotenv
    )
    assert (intake, adapter) == (in_environment, in_file)


def test_a_port_in_use_is_refused_by_its_setting():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=f"CRM_SIM_PORT={port} is in use"):
            chosen_ports(PORT_SETTINGS, {"CRM_SIM_PORT": str(port)})


def test_a_port_that_is_no_number_is_refused_by_its_setting():
    with pytest.raises(SystemExit, match="ADAPTER_PORT='eighty' is not a port number"):
        chosen_ports(PORT_SETTINGS, {"ADAPTER_PORT": "eighty"})


async def test_intake_measured_alone_listens_on_intake_port(tmp_path, monkeypatch):
    [wanted] = free_ports(1)
    monkeypatch.setenv("INTAKE_PORT", str(wanted))
    monkeypatch.chdir(tmp_path)  # no .env here
    dbs = Databases(
        intake=f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}",
        adapter=f"sqlite+aiosqlite:///{tmp_path / 'adapter.db'}",
        baseline=f"sqlite:///{tmp_path / 'baseline.db'}",
    )
    with intake_alone(dbs, tmp_path) as (url, _pid):
        assert url == f"http://127.0.0.1:{wanted}"
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{url}/healthz")).status_code == 200
