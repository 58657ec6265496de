"""`python -m crm_adapter api|worker|migrate`."""

from crm_adapter import worker
from crm_adapter.app import create_app
from crm_adapter.config import Settings
from crm_adapter.migrations import migrate
from shared.cli import main

if __name__ == "__main__":
    main(
        prog="python -m crm_adapter",
        settings_factory=Settings,
        create_app=create_app,
        loops=worker.loops,
        migrate=migrate,
    )
