"""The three processes of a local MAM (intake, adapter, CRM simulator) and how they find each other.

`make run` and the end-to-end tests start exactly these commands.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Ports:
    intake: int = 8000
    adapter: int = 8001
    crm: int = 8002

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        return cls(
            intake=int(env.get("INTAKE_PORT", 8000)),
            adapter=int(env.get("ADAPTER_PORT", 8001)),
            crm=int(env.get("CRM_SIM_PORT", 8002)),
        )


def stack_env(
    ports: Ports, env: Mapping[str, str], host: str = "127.0.0.1"
) -> dict[str, str]:
    """`env` plus the ports and the URLs by which the three find each other (unless set)."""
    result = dict(env)
    wiring = {
        "INTAKE_PORT": str(ports.intake),
        "ADAPTER_PORT": str(ports.adapter),
        "CRM_SIM_PORT": str(ports.crm),
        "INTAKE_ADAPTER_URL": f"http://{host}:{ports.adapter}",
        "ADAPTER_INTAKE_URL": f"http://{host}:{ports.intake}",
        "ADAPTER_CRM_URL": f"http://{host}:{ports.crm}",
        "CRM_SIM_WEBHOOK_URL": f"http://{host}:{ports.adapter}/webhooks/crm",
    }
    for name, value in wiring.items():
        result.setdefault(name, value)
    return result


def migrate_commands() -> list[list[str]]:
    return [
        [sys.executable, "-m", "intake_service", "migrate"],
        [sys.executable, "-m", "crm_adapter", "migrate"],
    ]


def serve_commands() -> dict[str, list[str]]:
    return {
        "crm-simulator": [sys.executable, "-m", "devtools.crm_simulator"],
        "adapter": [sys.executable, "-m", "crm_adapter", "api"],
        "intake": [sys.executable, "-m", "intake_service", "api"],
    }


def health_paths() -> dict[str, str]:
    return {
        "crm-simulator": "/openapi.json",
        "adapter": "/healthz",
        "intake": "/healthz",
    }
