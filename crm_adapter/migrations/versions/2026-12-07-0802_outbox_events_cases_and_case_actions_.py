"""outbox events, cases and case actions keep their trace

Revision ID: 90f277840a00
Revises: 428bd71dacd1
Create Date: 2026-12-07 08:02:15.997372

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "90f277840a00"
down_revision: str | Sequence[str] | None = "428bd71dacd1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The W3C `traceparent` of what wrote the row (a case: the report's), for the loop that
# takes the row up to continue.
_TABLES = ("outbox_events", "cases", "case_actions")


def upgrade() -> None:
    """Upgrade schema."""
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("traceparent", sa.String(length=55), nullable=True)
            )


def downgrade() -> None:
    """Downgrade schema."""
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("traceparent")
