"""The adapter's schema migrations and the seeding of the default routing and status
mapping tables."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from crm_adapter.config import Settings
from crm_adapter.crm.mapping import seed_status_mappings
from crm_adapter.routing.service import seed_defaults
from shared.migrate import upgrade_and_seed

SCRIPT_LOCATION = Path(__file__).parent


async def migrate(settings: Settings) -> None:
    """Bring the schema to the newest revision, then make routing version 1 if none exists
    and add missing default status mappings."""
    await upgrade_and_seed(settings, SCRIPT_LOCATION, seed)


async def seed(session: AsyncSession) -> int:
    return await seed_defaults(session) + await seed_status_mappings(session)
