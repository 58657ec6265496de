"""Open reports of a category nearest first: a partial GiST index for the duplicates hint

Revision ID: 7d3c1e0b9a52
Revises: ce12ad5d211e
Create Date: 2026-12-06 09:15:00.000000

Filing a report looks for open reports of its category close by. The index yields them
nearest first, so the look-up reads a handful of rows however many reports pile up in one
place or however many of other categories lie around. On PostgreSQL only; it needs the
btree_gist extension (shipped with PostgreSQL, trusted: a database owner may create it) for
the category in a GiST index. SQLite narrows by the (category, latitude) index as before.
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
    # The expression is `intake_service.reports.nearby_repository.plane_point`; the statuses are
    # the open ones (`ReportStatus.is_closed` is false).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        f"CREATE INDEX {INDEX} ON reports USING gist "
        "(category_code, point(lon * cos(radians(lat)), lat)) "
        "WHERE status IN ('received', 'submitted', 'in_progress', 'reopened')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {INDEX}")
