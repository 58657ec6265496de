"""Intake's schema migrations and the seeding of default data."""

from __future__ import annotations

from pathlib import Path

from intake_service.categories.service import seed_defaults
from intake_service.config import Settings
from shared.migrate import upgrade_and_seed

SCRIPT_LOCATION = Path(__file__).parent


async def migrate(settings: Settings) -> None:
    """Bring the schema to the newest revision, then add missing default categories."""
    await upgrade_and_seed(settings, SCRIPT_LOCATION, seed_defaults)
