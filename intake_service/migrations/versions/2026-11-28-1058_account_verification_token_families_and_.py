"""account verification, token families and attempt counters

Accounts get a case-free e-mail key (unique instead of the address itself), a verification
time and notification channels. Existing accounts stay unverified: no code ever reached
them, so they ask for one (`POST /v1/accounts/verification/resend`) and are told about
their reports from then on. Access tokens now belong to a token family (a sign-in with its
rotating refresh token); the old tokens cannot be given one and are dropped, so everyone
signs in again.

Revision ID: 510215f84578
Revises: a1b4253a41de
Create Date: 2026-11-28 10:58:52.389935

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "510215f84578"
down_revision: str | Sequence[str] | None = "a1b4253a41de"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "attempt_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_attempt_counters")),
    )
    with op.batch_alter_table("attempt_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attempt_counters_window_ends_at"),
            ["window_ends_at"],
            unique=False,
        )

    op.create_table(
        "email_codes",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_email_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "purpose", name=op.f("pk_email_codes")),
    )
    op.create_table(
        "token_families",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_token_families_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_families")),
    )
    with op.batch_alter_table("token_families", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_token_families_account_id"), ["account_id"], unique=False
        )

    _drop_access_tokens()
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["token_families.id"],
            name=op.f("fk_access_tokens_family_id_token_families"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_access_tokens")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_tokens_family_id"), ["family_id"], unique=False
        )

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_key", sa.String(length=320), nullable=True)
        )
    op.execute("UPDATE accounts SET email_key = lower(email)")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column(
            "email_key", existing_type=sa.String(length=320), nullable=False
        )
        batch_op.drop_constraint(batch_op.f("uq_accounts_email"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_accounts_email_key"), ["email_key"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_accounts_email_key"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_accounts_email"), ["email"])
        batch_op.drop_column("email_key")

    _drop_access_tokens(index="ix_access_tokens_family_id")
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_access_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_access_tokens")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_tokens_account_id"), ["account_id"], unique=False
        )

    with op.batch_alter_table("token_families", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_families_account_id"))
    op.drop_table("token_families")
    op.drop_table("email_codes")
    with op.batch_alter_table("attempt_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_counters_window_ends_at"))
    op.drop_table("attempt_counters")


def _drop_access_tokens(index: str = "ix_access_tokens_account_id") -> None:
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(index))
    op.drop_table("access_tokens")
