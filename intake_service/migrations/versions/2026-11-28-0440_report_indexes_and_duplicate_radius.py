"""report indexes and duplicate radius

Revision ID: efea6d1ac750
Revises: 3c8bcce33e9b
Create Date: 2026-11-28 04:40:12.254399

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "efea6d1ac750"
down_revision: str | Sequence[str] | None = "3c8bcce33e9b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "duplicate_radius_m", sa.Integer(), nullable=False, server_default="250"
            )
        )

    with op.batch_alter_table("reports", schema=None) as batch_op:
        # The composite index serves what the single-column one did.
        batch_op.drop_index("ix_reports_category_code")
        batch_op.create_index(
            "ix_reports_category_code_lat", ["category_code", "lat"], unique=False
        )
        batch_op.create_index(
            "ix_reports_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index("ix_reports_lat_lon", ["lat", "lon"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_lat_lon")
        batch_op.drop_index("ix_reports_created_at_id")
        batch_op.drop_index("ix_reports_category_code_lat")
        batch_op.create_index(
            "ix_reports_category_code", ["category_code"], unique=False
        )

    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_column("duplicate_radius_m")
