"""cases due and closing times

Revision ID: e3a3cabedfe0
Revises: 994dfc60fbaa
Create Date: 2026-12-01 10:11:59.352729

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime
from shared.settings import CitySettings
from shared.sla import due_at

# revision identifiers, used by Alembic.
revision: str = "e3a3cabedfe0"
down_revision: str | Sequence[str] | None = "994dfc60fbaa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

cases = sa.table(
    "cases",
    sa.column("id", sa.Uuid),
    sa.column("category", sa.String),
    sa.column("status", sa.String),
    sa.column("submitted_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
    sa.column("due_at", UtcDateTime()),
    sa.column("closed_at", UtcDateTime()),
)

# Cases opened before intake sent each report's target get the shipped default targets of
# their category (hours, or working days as a dict), others the contract's 5 working days.
SHIPPED_TARGETS: dict[str, int | dict[str, int]] = {
    "pothole": {"working_days": 5},
    "damaged_pavement": {"working_days": 10},
    "damaged_road_sign": 72,
    "traffic_signal_fault": 4,
    "street_light_out": 120,
    "damaged_bench": {"working_days": 10},
    "damaged_bus_shelter": {"working_days": 5},
    "vandalism": {"working_days": 21},
    "overflowing_container": 24,
    "illegal_dumping": {"working_days": 5},
    "missed_collection": 48,
    "fallen_tree": 6,
    "flooding": 12,
    "other_hazard": 12,
}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("due_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True)
        )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            cases.c.id,
            cases.c.category,
            cases.c.status,
            cases.c.submitted_at,
            cases.c.updated_at,
        )
    ).all()
    # The calendar the services count in (`MAM_TIME_ZONE`, `MAM_HOLIDAYS`).
    calendar = CitySettings().calendar
    for case_id, category, status, submitted_at, updated_at in rows:
        target = SHIPPED_TARGETS.get(category, {"working_days": 5})
        due = (
            due_at(submitted_at, calendar=calendar, hours=target)
            if isinstance(target, int)
            else due_at(
                submitted_at, calendar=calendar, working_days=target["working_days"]
            )
        )
        bind.execute(
            cases.update()
            .where(cases.c.id == case_id)
            # The last change of a closed case is the best guess of its closing time.
            .values(
                due_at=due,
                closed_at=updated_at if status in ("resolved", "rejected") else None,
            )
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column(
            "due_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_index(batch_op.f("ix_cases_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cases_submitted_at"), ["submitted_at"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_cases_due_at"))
        batch_op.drop_column("closed_at")
        batch_op.drop_column("due_at")
