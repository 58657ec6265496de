"""`python -m devtools.crm_simulator`: serve the simulated CRM."""

import argparse

import uvicorn

from devtools.crm_simulator.app import create_app
from devtools.crm_simulator.config import Settings
from shared.logging import configure_logging

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m devtools.crm_simulator")
    parser.add_argument("--host", help="address to listen on (default from settings)")
    parser.add_argument(
        "--port", type=int, help="port to listen on (default from settings)"
    )
    args = parser.parse_args()
    settings = Settings()
    configure_logging(json_output=settings.log_json, level=settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
    )
