"""reports keep the channel they came through (app or open311)

Revision ID: 5c0b7f3e2a91
Revises: b1e3cb185f10
Create Date: 2026-12-07 09:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5c0b7f3e2a91"
down_revision: str | Sequence[str] | None = "b1e3cb185f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Reports filed before were not told apart: they count as the app's.
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel", sa.String(length=10), server_default="app", nullable=False
            )
        )
        batch_op.create_index(
            "ix_reports_category_code_channel",
            ["category_code", "channel"],
            unique=False,
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_category_code_channel")
        batch_op.drop_column("channel")
