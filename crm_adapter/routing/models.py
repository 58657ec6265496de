"""City units and the routing table."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_adapter.db import Base


class Unit(Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    connector: Mapped[str] = mapped_column(String(50), default="rest_json")


class Route(Base):
    __tablename__ = "routes"

    category: Mapped[str] = mapped_column(String(50), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    active: Mapped[bool] = mapped_column(default=True)
