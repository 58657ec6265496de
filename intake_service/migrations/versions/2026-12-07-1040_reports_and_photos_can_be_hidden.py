"""operators hide reports' descriptions and photos; residents flag abuse

Revision ID: 16e0b0de1005
Revises: 16d0de1a1004
Create Date: 2026-12-07 10:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "16e0b0de1005"
down_revision: str | Sequence[str] | None = "16d0de1a1004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Everything filed before is shown: both columns start null.
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "description_hidden_at", sa.DateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("report_photos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "report_moderations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("photo_id", sa.Uuid(), nullable=True),
        sa.Column("reason_code", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("operator_name", sa.String(length=100), nullable=False),
        sa.Column("flags_resolved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_moderations_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_moderations")),
    )
    with op.batch_alter_table("report_moderations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_moderations_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "abuse_flags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("flagger", sa.String(length=64), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_abuse_flags_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_flags")),
        sa.UniqueConstraint(
            "report_id", "flagger", name=op.f("uq_abuse_flags_report_id_flagger")
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("abuse_flags")
    with op.batch_alter_table("report_moderations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_moderations_report_id"))
    op.drop_table("report_moderations")
    with op.batch_alter_table("report_photos", schema=None) as batch_op:
        batch_op.drop_column("hidden_at")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("description_hidden_at")
