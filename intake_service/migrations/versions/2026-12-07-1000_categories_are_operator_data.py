"""categories, groups and units are operator data

Revision ID: 16a0ca7a1001
Revises: 5c0b7f3e2a91
Create Date: 2026-12-07 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "16a0ca7a1001"
down_revision: str | Sequence[str] | None = "5c0b7f3e2a91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # The row itself is written by the seed that follows every `migrate`.
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("routing_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    with op.batch_alter_table("category_groups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.alter_column(
            "unit_code", existing_type=sa.String(length=50), nullable=True
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.alter_column(
            "unit_code", existing_type=sa.String(length=50), nullable=False
        )
        batch_op.drop_column("revision")
    with op.batch_alter_table("category_groups", schema=None) as batch_op:
        batch_op.drop_column("revision")
    op.drop_table("catalog_state")
