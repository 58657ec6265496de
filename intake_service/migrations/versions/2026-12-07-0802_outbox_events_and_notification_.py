"""outbox events and notification deliveries keep their trace

Revision ID: b1e3cb185f10
Revises: 6ec8fa42bd80
Create Date: 2026-12-07 08:02:14.529588

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b1e3cb185f10"
down_revision: str | Sequence[str] | None = "6ec8fa42bd80"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The W3C `traceparent` of what wrote the row, for the loop that sends it to continue.
_TABLES = ("outbox_events", "notification_deliveries")


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
