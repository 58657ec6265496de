"""category targets in hours or working days

Revision ID: 0602e62126c7
Revises: 822ff19ddf9b
Create Date: 2026-12-01 10:11:10.884250

"""

import math
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0602e62126c7"
down_revision: str | Sequence[str] | None = "822ff19ddf9b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

categories = sa.table(
    "categories",
    sa.column("code", sa.String),
    sa.column("expected_resolution_hours", sa.Integer),
    sa.column("expected_resolution_working_days", sa.Integer),
)

# The long default targets, from hours on the clock to working days. A row whose target an
# operator changed keeps it, in hours.
TO_WORKING_DAYS = {
    "pothole": (168, 5),
    "damaged_pavement": (336, 10),
    "damaged_bench": (336, 10),
    "damaged_bus_shelter": (168, 5),
    "vandalism": (720, 21),
    "illegal_dumping": (168, 5),
}


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expected_resolution_working_days", sa.Integer(), nullable=True)
        )
        batch_op.alter_column(
            "expected_resolution_hours", existing_type=sa.INTEGER(), nullable=True
        )
    for code, (hours, working_days) in TO_WORKING_DAYS.items():
        op.execute(
            categories.update()
            .where(
                categories.c.code == code,
                categories.c.expected_resolution_hours == hours,
            )
            .values(
                expected_resolution_hours=None,
                expected_resolution_working_days=working_days,
            )
        )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_categories_one_resolution_target"),
            "(expected_resolution_hours IS NULL) <> "
            "(expected_resolution_working_days IS NULL)",
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_categories_one_resolution_target"), type_="check"
        )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            categories.c.code, categories.c.expected_resolution_working_days
        ).where(categories.c.expected_resolution_working_days.is_not(None))
    ).all()
    for code, working_days in rows:
        # Back to hours on the clock: the target's usual calendar length.
        op.execute(
            categories.update()
            .where(categories.c.code == code)
            .values(expected_resolution_hours=math.ceil(working_days * 7 / 5) * 24)
        )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.alter_column(
            "expected_resolution_hours", existing_type=sa.INTEGER(), nullable=False
        )
        batch_op.drop_column("expected_resolution_working_days")
