"""the adapter keeps intake's categories

Revision ID: 16a0ca7a2001
Revises: 90f277840a00
Create Date: 2026-12-07 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "16a0ca7a2001"
down_revision: str | Sequence[str] | None = "90f277840a00"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "catalog_categories",
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("group_code", sa.String(length=50), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_categories")),
    )
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "version",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    # Units made before have one name; residents see it in every language.
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("names", sa.JSON(), nullable=True))
    with op.batch_alter_table("routing_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("names", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("routing_units", schema=None) as batch_op:
        batch_op.drop_column("names")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("names")
    op.drop_table("catalog_state")
    op.drop_table("catalog_categories")
