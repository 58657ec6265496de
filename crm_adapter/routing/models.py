"""The routing table, kept in versions: each version is a whole table of units and rules.

A version is never changed once made; an operator's change is a new version, and the one
with the highest number is the one in effect (`replaced_at` is null on it alone). Cases name
the version and the rule they were routed by.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_adapter.db import Base


class RoutingVersion(Base):
    __tablename__ = "routing_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The operator key's name, `defaults` (seeded) or `migration` (carried over).
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    comment: Mapped[str | None] = mapped_column(String(500))
    # Set when the next version took over; the version in effect has none.
    replaced_at: Mapped[dt.datetime | None]


class Unit(Base):
    """Every unit a version of the table has named, as the newest such version says.

    Cases refer to it; a unit a later version leaves out stays for the cases it has.
    """

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    connector: Mapped[str] = mapped_column(String(50), default="rest_json")
    # What residents see it called, by language (pl, en, de); null: `name` in each.
    names: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))


class VersionUnit(Base):
    """A unit as one version of the table knows it, with its default CRM connector."""

    __tablename__ = "routing_units"

    version: Mapped[int] = mapped_column(
        ForeignKey("routing_versions.number", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    connector: Mapped[str] = mapped_column(String(50))
    names: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))


class Rule(Base):
    """Reports of `category` (inside `area`, when it has one) go to `unit_code`."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        UniqueConstraint("version", "position"),
        ForeignKeyConstraint(
            ["version", "unit_code"],
            ["routing_units.version", "routing_units.code"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(
        ForeignKey("routing_versions.number", ondelete="CASCADE"), index=True
    )
    # The rule's place in its version (from 0): among matching areas of equal priority, the
    # first one wins.
    position: Mapped[int]
    category: Mapped[str] = mapped_column(String(50))
    # A GeoJSON Polygon or MultiPolygon (WGS 84); null: anywhere.
    area: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    priority: Mapped[int] = mapped_column(default=0)
    unit_code: Mapped[str] = mapped_column(String(50))
    # Overrides the unit's connector for this rule's reports; null: the unit's.
    connector: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(String(500))


class CatalogCategory(Base):
    """A category as intake last told it (`catalog.changed.v1`): rules name these."""

    __tablename__ = "catalog_categories"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(50))
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    active: Mapped[bool]


class CatalogState(Base):
    """One row: the version of intake's catalog held in `catalog_categories`."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
