"""Categories and units as the resident sees them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake_service.db import Base
from shared.contracts import ResolutionTarget


class Unit(Base):
    """A unit as the adapter's routing table names it (`routing.changed.v1`)."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)


class CategoryGroup(Base):
    __tablename__ = "category_groups"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(default=0)
    # Increases with each operator's change; the ETag operators send back as If-Match.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")


class CatalogState(Base):
    """One row: the catalog's version (increased with each change of a category, told to
    the adapter with it) and the adapter's routing version intake last took."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=1)
    routing_version: Mapped[int] = mapped_column(default=1)


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint(
            "(expected_resolution_hours IS NULL) <> "
            "(expected_resolution_working_days IS NULL)",
            name="one_resolution_target",
        ),
    )

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("category_groups.code"))
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    # The unit that usually handles it, shown to residents, as the adapter's routing table
    # in effect says (`routing.changed.v1`); none while no rule covers the category.
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    # The city's target from report to resolution: hours on the clock for short targets
    # (a traffic signal fault), or working days for long ones (a pothole); exactly one is set.
    expected_resolution_hours: Mapped[int | None]
    expected_resolution_working_days: Mapped[int | None]
    # How close another open report of this category must be to count as a likely duplicate.
    # Extra fields a report of this category carries, e.g. the lamp-post number:
    # [{code, datatype (string|integer|number|boolean|choice), required, names, choices?,
    #   max_length?}] (see categories/attributes.py).
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    duplicate_radius_m: Mapped[int] = mapped_column(default=250, server_default="250")
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    # Increases with each operator's change; the ETag operators send back as If-Match.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")

    group: Mapped[CategoryGroup] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")

    @property
    def resolution_target(self) -> ResolutionTarget:
        return ResolutionTarget(
            hours=self.expected_resolution_hours,
            working_days=self.expected_resolution_working_days,
        )
