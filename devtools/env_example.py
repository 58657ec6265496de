"""`python -m devtools.env_example > .env.example`: every setting of the three processes."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from crm_adapter.config import Settings as AdapterSettings
from devtools.crm_simulator.config import Settings as SimulatorSettings
from intake_service.config import Settings as IntakeSettings

SECTIONS: list[tuple[str, type[BaseSettings]]] = [
    ("intake service", IntakeSettings),
    ("CRM adapter", AdapterSettings),
    ("CRM simulator", SimulatorSettings),
]


def env_name(settings: type[BaseSettings], field: str) -> str:
    alias = settings.model_fields[field].validation_alias
    return (
        alias
        if isinstance(alias, str)
        else (settings.model_config["env_prefix"] + field).upper()
    )


def render() -> str:
    lines = [
        "# Every setting with its default. Copy to .env and change what you need.",
        "# Secrets left at their development values are refused when *_ENVIRONMENT=production.",
    ]
    seen: set[str] = set()
    for title, settings in SECTIONS:
        lines += ["", f"# {title}"]
        for field, info in settings.model_fields.items():
            name = env_name(settings, field)
            if name in seen:
                continue
            seen.add(name)
            if info.description:
                lines.append(f"# {info.description}")
            default = info.default
            if isinstance(default, SecretStr):
                default = default.get_secret_value()
            if default is None:
                lines.append(f"# {name}=   (unset by default)")
                continue
            if isinstance(default, Path) and default.is_absolute():
                lines.append(f"# {name}=   (default: shipped with the code)")
                continue
            if isinstance(default, bool):
                default = str(default).lower()
            lines.append(f"{name}={default}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
