"""Alembic environment of the intake service."""

import intake_service.models  # noqa: F401  (registers every table on the metadata)
from intake_service.db import Base
from shared.migrations_env import run_migrations

run_migrations(Base.metadata)
