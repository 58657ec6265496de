"""status changes that came late are marked

Revision ID: 6ec8fa42bd80
Revises: 7d3c1e0b9a52
Create Date: 2026-12-06 16:02:28.644677

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "6ec8fa42bd80"
down_revision: str | Sequence[str] | None = "7d3c1e0b9a52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("report_status_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "superseded", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("report_status_changes", schema=None) as batch_op:
        batch_op.drop_column("superseded")
