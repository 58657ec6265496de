"""reports show when their delivery is delayed

Revision ID: 16d0de1a1004
Revises: 16c0ed1a1003
Create Date: 2026-12-07 10:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "16d0de1a1004"
down_revision: str | Sequence[str] | None = "16c0ed1a1003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "delivery_delayed_since", sa.DateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "delivery_dead", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("delivery_delay_as_of", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("delivery_delay_as_of")
        batch_op.drop_column("delivery_dead")
        batch_op.drop_column("delivery_delayed_since")
