"""photos are blurred; originals kept where allowed

Revision ID: 16b0b1a21002
Revises: 16a0ca7a1001
Create Date: 2026-12-07 10:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "16b0b1a21002"
down_revision: str | Sequence[str] | None = "16a0ca7a1001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Photos stored before were never looked at for faces: null says so.
    with op.batch_alter_table("report_photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("faces_blurred", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("report_photos", schema=None) as batch_op:
        batch_op.drop_column("faces_blurred")
