"""Alembic environment of the CRM adapter."""

import crm_adapter.models  # noqa: F401  (registers every table on the metadata)
from crm_adapter.db import Base
from shared.migrations_env import run_migrations

run_migrations(Base.metadata)
