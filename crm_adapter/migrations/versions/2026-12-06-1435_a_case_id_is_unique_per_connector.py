"""a case id is unique per connector

Revision ID: 428bd71dacd1
Revises: ea4d1a8ed509
Create Date: 2026-12-06 14:35:55.547414

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "428bd71dacd1"
down_revision: str | Sequence[str] | None = "ea4d1a8ed509"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A CRM that handed out a number again left two cases with it: the later report's is the
# CRM's case now; the earlier one's is gone from the CRM and is held for an operator.
_RELEASE_REUSED_IDS = sa.text(
    """
    UPDATE cases
    SET state = 'dead',
        last_error = 'The CRM gave this case''s id ' || crm_case_id
            || ' to a later report: it no longer has this report''s case. '
            || 'Replay it to file it again.',
        crm_case_id = NULL
    WHERE crm_case_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM cases AS later
        WHERE later.connector = cases.connector
          AND later.crm_case_id = cases.crm_case_id
          AND (later.created_at > cases.created_at
               OR (later.created_at = cases.created_at AND later.id > cases.id))
    )
    """
)


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(_RELEASE_REUSED_IDS)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_crm_case_id"))
        batch_op.create_index(
            "ix_cases_connector_crm_case_id",
            ["connector", "crm_case_id"],
            unique=True,
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_connector_crm_case_id")
        batch_op.create_index(
            batch_op.f("ix_cases_crm_case_id"), ["crm_case_id"], unique=False
        )
