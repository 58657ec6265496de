"""`python -m devtools.api_documents`: write the API documents of every audience into
`docs/api/`, as the services serve them with the default settings (`make api-docs`).

App teams generate their clients from these files; a test fails when they are not what the
services serve.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from crm_adapter.app import AUDIENCES as ADAPTER_AUDIENCES
from crm_adapter.app import create_app as create_adapter
from crm_adapter.config import Settings as AdapterSettings
from intake_service.app import AUDIENCES as INTAKE_AUDIENCES
from intake_service.app import create_app as create_intake
from intake_service.config import Settings as IntakeSettings
from shared.api_documents import Audience, audience_document

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "api"


def documents() -> dict[str, dict[str, Any]]:
    """`<service>-<audience>.json` and its document, for every service and audience."""
    services: list[tuple[str, FastAPI, list[Audience]]] = [
        ("intake", create_intake(IntakeSettings(_env_file=None)), INTAKE_AUDIENCES),
        ("adapter", create_adapter(AdapterSettings(_env_file=None)), ADAPTER_AUDIENCES),
    ]
    return {
        f"{service}-{audience.name}.json": audience_document(app.openapi(), audience)
        for service, app, audiences in services
        for audience in audiences
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (FOLDER / name).write_text(render(document), encoding="utf-8")
        sys.stderr.write(f"{FOLDER / name}\n")


if __name__ == "__main__":
    main()
