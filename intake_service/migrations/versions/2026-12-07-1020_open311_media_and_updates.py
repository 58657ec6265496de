"""open311 media fetched later; updates from open311 clients

Revision ID: 16c0ed1a1003
Revises: 16b0b1a21002
Create Date: 2026-12-07 10:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "16c0ed1a1003"
down_revision: str | Sequence[str] | None = "16b0b1a21002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "open311_media",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.Uuid(), nullable=True),
        sa.Column("failure", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("photo_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["report_photos.id"],
            name=op.f("fk_open311_media_photo_id_report_photos"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_open311_media_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_media")),
        sa.UniqueConstraint(
            "report_id", "position", name=op.f("uq_open311_media_report_id_position")
        ),
    )
    with op.batch_alter_table("open311_media", schema=None) as batch_op:
        batch_op.create_index(
            "ix_open311_media_state_next", ["state", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_open311_media_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "open311_updates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("update_id", sa.String(length=100), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_open311_updates_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_updates")),
        sa.UniqueConstraint(
            "client", "update_id", name=op.f("uq_open311_updates_client_update_id")
        ),
    )
    with op.batch_alter_table("open311_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_open311_updates_report_id"), ["report_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("open311_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open311_updates_report_id"))
    op.drop_table("open311_updates")
    with op.batch_alter_table("open311_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open311_media_report_id"))
        batch_op.drop_index("ix_open311_media_state_next")
    op.drop_table("open311_media")
