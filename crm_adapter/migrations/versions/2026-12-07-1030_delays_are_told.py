"""delayed deliveries are told to intake

Revision ID: 16d0de1a2002
Revises: 16a0ca7a2001
Create Date: 2026-12-07 10:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "16d0de1a2002"
down_revision: str | Sequence[str] | None = "16a0ca7a2001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("delay_told", sa.String(10), nullable=True))
    # Cases failing already count from the start of their retry clock (a replay restarts
    # it), so their residents are told once the notice period has passed.
    op.execute(
        "UPDATE cases SET failing_since = COALESCE(retry_since, created_at) "
        "WHERE state IN ('pending', 'dead') AND attempts > 0 "
        "AND last_error IS NOT NULL"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("delay_told")
        batch_op.drop_column("failing_since")
