"""Write the JSON Schema of the envelope (and so of every event) into `schemas/`."""

import json
from pathlib import Path

from shared.contracts import Envelope

SCHEMA_FILE = Path(__file__).parent / "schemas" / "envelope.json"


def render() -> str:
    return (
        json.dumps(
            Envelope.model_json_schema(), indent=2, sort_keys=True, ensure_ascii=False
        )
        + "\n"
    )


if __name__ == "__main__":
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
