"""Open reports nearest first: a partial GiST index for the duplicates hint (PostgreSQL)

Revision ID: 7d3c1e0b9a52
Revises: ce12ad5d211e
Create Date: 2026-12-06 09:15:00.000000

Filing a report looks for open reports of its category close by. The index yields them
nearest first, so the look-up reads a handful of rows however many reports pile up in one
place. SQLite has no such index; it narrows by the (category, latitude) index as before.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "7d3c1e0b9a52"
down_revision: str | Sequence[str] | None = "ce12ad5d211e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_reports_open_plane_point"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The expression is `intake_service.reports.repository.plane_point`; the statuses are
    # the open ones (`ReportStatus.is_closed` is false).
    op.execute(
        f"CREATE INDEX {INDEX} ON reports USING gist "
        "(point(lon * cos(radians(lat)), lat)) "
        "WHERE status IN ('received', 'submitted', 'in_progress', 'reopened')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {INDEX}")
