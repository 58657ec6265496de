"""`python -m intake_service api|worker|migrate`."""

from intake_service import worker
from intake_service.app import create_app
from intake_service.config import Settings
from intake_service.migrations import migrate
from shared.cli import main

if __name__ == "__main__":
    main(
        prog="python -m intake_service",
        settings_factory=Settings,
        create_app=create_app,
        loops=worker.loops,
        migrate=migrate,
    )
